-- owner: @analytics-team
-- expect: legacy_events is gone
-- rollback: irreversible
SET lock_timeout = '2s';
DROP TABLE legacy_events;
