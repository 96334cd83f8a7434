-- migrate:up
-- owner: @billing-team
ALTER TABLE invoices ADD COLUMN due_at timestamptz;
UPDATE invoices SET due_at = issued_at + interval '30 days' WHERE due_at IS NULL;

-- migrate:down
ALTER TABLE invoices DROP COLUMN due_at;
