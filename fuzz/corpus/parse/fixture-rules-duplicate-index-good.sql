-- no-transaction
-- owner: @payments-team
-- expect: the open-orders dashboard uses orders_status_created_at_idx
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS orders_status_created_at_idx;
SET lock_timeout = '2s';
-- Customer lookups already have orders_customer_id_idx; this index serves a new query.
CREATE INDEX CONCURRENTLY orders_status_created_at_idx ON orders (status, created_at);
