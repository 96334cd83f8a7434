-- owner: @shop-core
-- expect: succeeds
-- rollback: ALTER TABLE orders DROP COLUMN priority;
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN priority smallint NOT NULL DEFAULT 0;
