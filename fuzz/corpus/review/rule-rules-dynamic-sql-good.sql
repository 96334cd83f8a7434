-- no-transaction
-- owner: @platform
-- expect: the tenant tables have a created_at index
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS tenants.acme_created_at_idx; DROP INDEX CONCURRENTLY IF EXISTS tenants.globex_created_at_idx;
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS acme_created_at_idx ON tenants.acme (created_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS globex_created_at_idx ON tenants.globex (created_at);
