-- no-transaction
-- owner: @fulfilment-team
-- expect: orders_status_idx is gone
-- rollback: CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
SET lock_timeout = '2s';
DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;
