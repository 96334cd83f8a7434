-- no-transaction
-- owner: @identity-team
-- expect: every user has an email
-- rollback: ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
SET lock_timeout = '2s';
ALTER TABLE users
    ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
-- Scans without blocking reads or writes.
ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
-- PostgreSQL 12+ uses the validated check instead of scanning again.
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_email_not_null;
