-- owner: @telemetry-team
-- expect: measurements_2023 is a standalone table, ready to archive
-- rollback: ALTER TABLE measurements ATTACH PARTITION measurements_2023 FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
SET lock_timeout = '2s';
ALTER TABLE measurements DETACH PARTITION measurements_2023;
