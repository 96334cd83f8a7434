-- owner: @shop-core
-- expect: succeeds
-- rollback: DROP INDEX orders_created_at_idx; ALTER TABLE orders DROP COLUMN coupon;
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN coupon text;
CREATE INDEX orders_created_at_idx ON orders (created_at);
