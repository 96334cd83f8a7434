-- owner: @platform
-- expect: the replacement exists next to pg_trgm
-- rollback: irreversible
SET lock_timeout = '2s';
CREATE EXTENSION IF NOT EXISTS citext;
