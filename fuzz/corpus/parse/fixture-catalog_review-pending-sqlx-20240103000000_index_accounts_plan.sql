-- owner: @accounts-team
-- expect: the plan report finds accounts by index
-- rollback: DROP INDEX IF EXISTS accounts_plan_idx;
CREATE INDEX accounts_plan_idx ON accounts (plan);
