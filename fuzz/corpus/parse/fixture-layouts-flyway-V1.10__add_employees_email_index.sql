-- owner: @hr-platform
-- rollback: see U1.10
CREATE UNIQUE INDEX CONCURRENTLY employees_email_idx ON employees (email);
