-- owner: @crm-team
-- expect: customers is now called clients
-- rollback: ALTER TABLE clients RENAME TO customers;
SET lock_timeout = '2s';
ALTER TABLE customers RENAME TO clients;
