-- owner: @analytics-team
-- expect: payload sizes above 2 GB can be stored once the backfill and switch-over are done
-- rollback: ALTER TABLE events DROP COLUMN IF EXISTS payload_size_v2;
SET lock_timeout = '2s';
-- Step 1 of expand and contract: a new column, filled by dual writes and a batched backfill;
-- readers switch to it and the old column is dropped in later migrations.
ALTER TABLE events ADD COLUMN payload_size_v2 bigint;
