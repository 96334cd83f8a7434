-- no-transaction
-- owner: @fulfilment-team
-- expect: shipped orders have shipped_at
-- rollback: ALTER TABLE orders DROP COLUMN IF EXISTS shipped_at;
SET lock_timeout = '2s';
-- Commits at once, releasing the ACCESS EXCLUSIVE lock before the backfill starts.
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
UPDATE orders SET shipped_at = updated_at WHERE status = 'shipped';
