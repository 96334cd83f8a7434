-- no-transaction
-- owner: @fulfilment-team
-- expect: succeeds
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx; ALTER TABLE orders DROP COLUMN IF EXISTS shipped_at;
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
