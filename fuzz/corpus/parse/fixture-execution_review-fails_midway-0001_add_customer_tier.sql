-- owner: @growth
-- expect: succeeds
-- rollback: ALTER TABLE customers DROP COLUMN tier;
SET lock_timeout = '2s';
ALTER TABLE customers ADD COLUMN tier text;
