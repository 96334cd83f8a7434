-- no-transaction
-- owner: @fulfilment-team
-- expect: succeeds
-- rollback: ALTER TABLE orders DROP COLUMN IF EXISTS shipped_at;
-- The rollback drops the column but forgets the index: orders_status_idx stays behind.
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
