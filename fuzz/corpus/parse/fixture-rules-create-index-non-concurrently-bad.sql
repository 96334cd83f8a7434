-- owner: @payments-team
-- expect: orders lookups by customer use orders_customer_id_idx
-- rollback: DROP INDEX IF EXISTS orders_customer_id_idx;
SET lock_timeout = '2s';
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
