-- no-transaction
-- owner: @logistics-team
-- expect: orders by region use orders_region_idx
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS orders_region_idx;
SET lock_timeout = '2s';
-- orders.region does not exist on the copy: this fails there, or the copy is stale.
CREATE INDEX CONCURRENTLY orders_region_idx ON orders (region);
