-- owner: @orders-team
-- expect: a customer's orders are found by index
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS orders_customer_idx;
-- orders_customer_id_idx already indexes (customer_id).
CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
