-- owner: @crm-team
-- expect: customers is now called clients; code still using customers works through the view
-- rollback: DROP VIEW customers; ALTER TABLE clients RENAME TO customers;
SET lock_timeout = '2s';
ALTER TABLE customers RENAME TO clients;
CREATE VIEW customers AS SELECT * FROM clients;
