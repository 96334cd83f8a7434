-- no-transaction
-- owner: @identity-team
-- expect: no two users share an email
-- rollback: ALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_key;
SET lock_timeout = '2s';
-- Reads and writes continue during the build.
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
-- Brief lock, no scan: the constraint adopts the finished index.
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
