-- owner: @billing-team
-- expect: invoices live in the billing schema
-- rollback: ALTER TABLE billing.invoices SET SCHEMA public;
SET lock_timeout = '2s';
CREATE SCHEMA IF NOT EXISTS billing;
ALTER TABLE invoices SET SCHEMA billing;
