-- owner: @support-team
-- expect: succeeds
-- rollback: ALTER TABLE tickets DROP COLUMN IF EXISTS assignee;
SET lock_timeout = '2s';
-- Reviewed with production-good.json. Production has the same indexes and constraints as the copy.
ALTER TABLE tickets ADD COLUMN assignee text;
