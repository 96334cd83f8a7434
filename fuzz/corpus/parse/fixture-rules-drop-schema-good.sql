-- owner: @data-team
-- expect: the staging_import schema is gone; fails if anything is still in it
-- rollback: CREATE SCHEMA staging_import;
-- Its tables were dropped one by one in earlier migrations; RESTRICT (the default)
-- refuses to drop the schema if anything was missed.
SET lock_timeout = '2s';
DROP SCHEMA staging_import;
