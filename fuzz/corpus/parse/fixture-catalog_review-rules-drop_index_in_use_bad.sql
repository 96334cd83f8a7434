-- owner: @orders-team
-- expect: nothing reads orders by created_at any more
-- rollback: CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);
-- The test queries orders by created_at first, so idx_scan is above zero.
DROP INDEX CONCURRENTLY orders_created_at_idx;
