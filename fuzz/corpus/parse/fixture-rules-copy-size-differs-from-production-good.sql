-- owner: @support-team
-- expect: succeeds
-- rollback: ALTER TABLE tickets DROP COLUMN IF EXISTS assignee;
SET lock_timeout = '2s';
-- Reviewed with production-good.json. Production has 1,200 tickets: the copy's 1,000 are representative.
ALTER TABLE tickets ADD COLUMN assignee text;
