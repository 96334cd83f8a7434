-- owner: @orders-team
-- expect: shipped orders are found by date
-- rollback: DROP INDEX IF EXISTS orders_shipped_at_idx; ALTER TABLE orders DROP COLUMN IF EXISTS shipped_at;
-- The column is added first, so the index finds it.
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
CREATE INDEX orders_shipped_at_idx ON orders (shipped_at);
