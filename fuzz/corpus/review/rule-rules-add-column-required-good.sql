-- owner: @billing-team
-- expect: every account has a plan; existing accounts start on 'free'
-- rollback: ALTER TABLE accounts DROP COLUMN IF EXISTS plan;
SET lock_timeout = '2s';
-- A constant default is stored once in the catalog (PostgreSQL 11+): no rewrite.
ALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';
