-- owner: @shop-core
-- expect: succeeds
-- rollback: ALTER TABLE orders DROP COLUMN channel;
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN channel text;
