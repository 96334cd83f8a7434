-- A file cut off in the middle of its last statement.
CREATE INDEX idx_truncated_before ON orders (a);
ALTER TABLE orders ADD COLUMN note text NOT NULL DEFAULT