-- no-transaction
-- owner: @payments-team
-- expect: orders lookups by customer use orders_customer_id_idx
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
