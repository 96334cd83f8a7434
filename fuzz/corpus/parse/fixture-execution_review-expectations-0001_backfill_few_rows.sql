-- owner: @shop-core
-- expect: rows <= 10
-- rollback: irreversible
SET lock_timeout = '2s';
UPDATE orders SET status = 'cancelled' WHERE id <= 500;
