-- owner: @accounts
-- rollback: ALTER TABLE accounts DROP COLUMN email;
ALTER TABLE accounts ADD COLUMN email text;
-- Edited after it was applied: the copy ran it without this index.
CREATE INDEX accounts_email_idx ON accounts (email);
