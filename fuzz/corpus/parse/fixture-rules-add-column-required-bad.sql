-- owner: @billing-team
-- expect: every account has a plan
-- rollback: ALTER TABLE accounts DROP COLUMN IF EXISTS plan;
SET lock_timeout = '2s';
ALTER TABLE accounts ADD COLUMN plan text NOT NULL;
