-- owner: @analytics-team
-- expect: payload sizes above 2 GB can be stored
-- rollback: ALTER TABLE events ALTER COLUMN payload_size TYPE integer;
SET lock_timeout = '2s';
ALTER TABLE events ALTER COLUMN payload_size TYPE bigint;
