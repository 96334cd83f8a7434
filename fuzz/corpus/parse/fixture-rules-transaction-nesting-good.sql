-- owner: @billing-team
-- expect: invoices have a note column
-- rollback: ALTER TABLE invoices DROP COLUMN note;
-- The runner wraps this file in one transaction: no BEGIN/COMMIT of our own.
SET lock_timeout = '2s';
ALTER TABLE invoices ADD COLUMN note text;
