-- owner: @shop-core
-- expect: succeeds
-- rollback: irreversible
SET lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN quantity TYPE bigint;
