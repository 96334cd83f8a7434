-- no-transaction
-- owner: @analytics-team
-- expect: duration < 5s
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS event_kinds_name_idx;
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY event_kinds_name_idx ON event_kinds (name);
