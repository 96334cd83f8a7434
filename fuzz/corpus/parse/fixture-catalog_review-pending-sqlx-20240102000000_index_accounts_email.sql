-- owner: @accounts-team
-- expect: sign-in finds the account by index
-- rollback: DROP INDEX IF EXISTS accounts_email_idx;
CREATE INDEX accounts_email_idx ON accounts (email);
