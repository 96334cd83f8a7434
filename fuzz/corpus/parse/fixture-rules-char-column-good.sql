-- owner: @billing-team
-- expect: invoices can store a country code
-- rollback: ALTER TABLE invoices DROP COLUMN country_code;
SET lock_timeout = '2s';
ALTER TABLE invoices ADD COLUMN country_code text;
