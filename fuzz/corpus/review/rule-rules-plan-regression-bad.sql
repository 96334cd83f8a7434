-- no-transaction
-- owner: @payments-team
-- expect: the unused-looking customer index is gone
-- rollback: CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
SET lock_timeout = '2s';
DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;
