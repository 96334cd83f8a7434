-- owner: @accounts
-- rollback: ALTER TABLE accounts DROP COLUMN created_at;
ALTER TABLE accounts ADD COLUMN created_at timestamptz;
