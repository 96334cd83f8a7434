-- atlas:txmode none

-- owner: @orders
CREATE INDEX CONCURRENTLY "orders_customer_id_idx" ON "orders" ("customer_id");
