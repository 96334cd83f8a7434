-- owner: @identity-team
-- expect: succeeds
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
