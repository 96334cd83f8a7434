-- owner: @orders-team
-- expect: a customer's orders are found by index
-- rollback: irreversible
-- IF NOT EXISTS: a no-op where the index exists already.
CREATE INDEX IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
