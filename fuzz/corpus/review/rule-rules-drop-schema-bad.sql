-- owner: @data-team
-- expect: the staging_import schema is gone
-- rollback: irreversible
SET lock_timeout = '2s';
DROP SCHEMA staging_import CASCADE;
