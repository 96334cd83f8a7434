-- owner: @platform
-- expect: pg_trgm is gone
-- rollback: irreversible
SET lock_timeout = '2s';
DROP EXTENSION pg_trgm;
