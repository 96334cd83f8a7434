-- no-transaction
-- owner: @payments-team
-- expect: lookups of a customer's orders use orders_customer_idx
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS orders_customer_idx;
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
