-- owner: @platform
-- expect: reporting.active_customers is gone
-- rollback: irreversible
SET lock_timeout = '2s';
DROP VIEW reporting.active_customers;
