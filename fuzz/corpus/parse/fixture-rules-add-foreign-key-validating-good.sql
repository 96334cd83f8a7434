-- no-transaction
-- owner: @payments-team
-- expect: every order references an existing customer
-- rollback: ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_customer_id_fkey;
SET lock_timeout = '2s';
-- Brief lock: only new and updated rows are checked from now on.
ALTER TABLE orders
    ADD CONSTRAINT orders_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
-- Its own transaction: scans old rows while writes continue.
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;
