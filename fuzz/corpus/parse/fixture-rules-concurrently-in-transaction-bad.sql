-- owner: @billing-team
-- expect: overdue-invoice lookups use invoices_due_at_idx
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS invoices_due_at_idx;
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY invoices_due_at_idx ON invoices (due_at);
