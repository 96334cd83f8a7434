-- owner: @growth
-- expect: succeeds
-- rollback: irreversible
SET lock_timeout = '2s';
ALTER TABLE customers ADD COLUMN email_verified boolean;
UPDATE customers SET tier = 'gold' WHERE id <= 100;
CREATE UNIQUE INDEX customers_email_key ON customers (email);
ALTER TABLE customers ADD COLUMN after_the_index text;
