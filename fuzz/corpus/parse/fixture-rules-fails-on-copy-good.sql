-- no-transaction
-- owner: @identity-team
-- expect: succeeds
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS accounts_billing_ref_key;
-- Checked first on the copy: SELECT billing_ref FROM accounts GROUP BY 1 HAVING count(*) > 1
-- returns nothing.
SET lock_timeout = '2s';
CREATE UNIQUE INDEX CONCURRENTLY accounts_billing_ref_key ON accounts (billing_ref);
