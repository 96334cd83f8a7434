-- owner: @growth
-- expect: rows <= 0
-- rollback: ALTER TABLE orders DROP CONSTRAINT orders_customer_fk; ALTER TABLE customers DROP COLUMN phone;
SET lock_timeout = '2s';
ALTER TABLE customers ADD COLUMN phone varchar(32);
UPDATE customers SET phone = 'unknown';
ALTER TABLE customers ALTER COLUMN phone SET NOT NULL;
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
