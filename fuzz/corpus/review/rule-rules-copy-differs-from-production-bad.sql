-- owner: @support-team
-- expect: succeeds
-- rollback: ALTER TABLE tickets DROP COLUMN IF EXISTS assignee;
SET lock_timeout = '2s';
-- Reviewed with production-bad.json. Production has tickets_status_idx (2,000,000 scans) and the copy does not: every plan and
-- index finding on the copy misses it.
ALTER TABLE tickets ADD COLUMN assignee text;
