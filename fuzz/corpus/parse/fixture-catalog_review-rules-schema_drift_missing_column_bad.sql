-- owner: @orders-team
-- expect: shipped orders are found by date
-- rollback: DROP INDEX IF EXISTS orders_shipped_at_idx;
-- orders has no shipped_at column on the copy: this migration would fail there.
CREATE INDEX orders_shipped_at_idx ON orders (shipped_at);
