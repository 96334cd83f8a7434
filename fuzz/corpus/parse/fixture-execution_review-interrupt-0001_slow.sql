-- owner: @shop-core
-- expect: succeeds
-- rollback: irreversible
SET lock_timeout = '2s';
UPDATE orders SET status = 'archived', amount = amount + 1;
CREATE INDEX orders_status_created_at_idx ON orders (status, created_at, amount);
