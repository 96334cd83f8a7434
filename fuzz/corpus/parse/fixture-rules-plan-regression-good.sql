-- no-transaction
-- owner: @payments-team
-- expect: plan "SELECT * FROM orders WHERE customer_id = 42" uses index orders_customer_id_created_at_idx
-- rollback: CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON orders (customer_id); DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_created_at_idx;
-- The replacement serves the same lookups (and their ORDER BY created_at) before the old
-- index goes.
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_created_at_idx
    ON orders (customer_id, created_at);
DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;
