-- owner: @growth
-- expect: succeeds
-- rollback: ALTER TABLE orders DROP COLUMN gift;
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN gift boolean;
