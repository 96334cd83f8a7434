-- no-transaction
-- owner: @payments-team
-- expect: every order references an existing customer; deleting a customer uses orders_customer_id_idx
-- rollback: ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_customer_id_fkey; DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;
SET lock_timeout = '2s';
-- The referencing side first, so that deletes of customers never scan orders.
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
ALTER TABLE orders
    ADD CONSTRAINT orders_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
