-- owner: @people-team
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY employees_email_idx ON employees (email);
