-- owner: @platform
-- expect: the replacement exists next to reporting.active_customers
-- rollback: irreversible
SET lock_timeout = '2s';
CREATE VIEW reporting.active_customers_v2 AS SELECT id, email FROM customers WHERE deleted_at IS NULL;
