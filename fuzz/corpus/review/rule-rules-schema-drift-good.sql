-- no-transaction
-- owner: @logistics-team
-- expect: orders by region use orders_region_idx
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS orders_region_idx; ALTER TABLE orders DROP COLUMN IF EXISTS region;
SET lock_timeout = '2s';
-- The migration adds the column it indexes, so it fits the copy as it is.
ALTER TABLE orders ADD COLUMN region text;
CREATE INDEX CONCURRENTLY orders_region_idx ON orders (region);
