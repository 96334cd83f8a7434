-- owner: @billing-team
-- expect: invoices have a note column
-- rollback: ALTER TABLE invoices DROP COLUMN note;
SET lock_timeout = '2s';
BEGIN;
ALTER TABLE invoices ADD COLUMN note text;
COMMIT;
