-- owner: @shop-core
-- expect: succeeds
-- rollback: irreversible
SET lock_timeout = '2s';
UPDATE orders SET priority = 1, status = 'shipped' WHERE id <= 5000;
