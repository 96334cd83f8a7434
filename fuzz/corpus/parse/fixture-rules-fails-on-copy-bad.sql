-- no-transaction
-- owner: @identity-team
-- expect: every account's email is unique and indexed
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS accounts_email_key;
SET lock_timeout = '2s';
CREATE UNIQUE INDEX CONCURRENTLY accounts_email_key ON accounts (email);
