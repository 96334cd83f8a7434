-- owner: @billing-team
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS invoices_customer_id_idx;
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY invoices_customer_id_idx ON invoices (customer_id);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY IF EXISTS invoices_customer_id_idx;
