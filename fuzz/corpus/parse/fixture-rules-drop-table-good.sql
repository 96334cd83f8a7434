-- owner: @analytics-team
-- expect: legacy_events is gone
-- rollback: pg_restore -t legacy_events from s3://backups/legacy_events-2024-06-01.dump
SET lock_timeout = '2s';
-- migsafe:allow drop-table reason: unused since release 2024.05 (no scans in pg_stat_user_tables), dumped on 2024-06-01
DROP TABLE legacy_events;
