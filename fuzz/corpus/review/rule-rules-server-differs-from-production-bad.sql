-- owner: @support-team
-- expect: succeeds
-- rollback: ALTER TABLE tickets DROP COLUMN IF EXISTS assignee;
SET lock_timeout = '2s';
-- Reviewed with production-bad.json. Production runs PostgreSQL 12: what is instant and which lock a statement takes can differ.
ALTER TABLE tickets ADD COLUMN assignee text;
