-- owner: @shop-core
-- expect: succeeds
-- rollback: ALTER TABLE customers DROP COLUMN nickname;
SET lock_timeout = '2s';
ALTER TABLE customers ADD COLUMN nickname text;
CREATE INDEX customers_email_lookup_idx ON customers (email);
