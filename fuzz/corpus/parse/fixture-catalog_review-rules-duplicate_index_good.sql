-- owner: @orders-team
-- expect: the stuck-orders report is found by index
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS orders_status_created_at_idx;
-- Nothing indexes status yet.
CREATE INDEX CONCURRENTLY orders_status_created_at_idx ON orders (status, created_at);
