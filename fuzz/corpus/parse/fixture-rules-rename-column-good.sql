-- owner: @accounts-team
-- expect: users.email_address exists; the app writes both columns, then a backfill copies the rest
-- rollback: ALTER TABLE users DROP COLUMN email_address;
-- Step 1 of expand/contract: add the new column; the old one is dropped after reads switch over.
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN email_address text;
