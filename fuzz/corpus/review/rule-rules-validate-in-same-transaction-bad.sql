-- owner: @orders-team
-- expect: every order references an existing customer
-- rollback: ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey;
SET lock_timeout = '2s';
ALTER TABLE orders
    ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
