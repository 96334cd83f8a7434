-- no-transaction
-- owner: @fulfilment-team
-- expect: succeeds
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
