-- owner: @billing-team
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY invoices_customer_id_idx ON invoices (customer_id);
CREATE INDEX CONCURRENTLY invoices_due_on_idx ON invoices (due_on);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY IF EXISTS invoices_due_on_idx;
