-- owner: @billing-team
-- expect: the billing schema exists for new billing tables
-- rollback: DROP SCHEMA IF EXISTS billing;
CREATE SCHEMA IF NOT EXISTS billing;
