-- owner: @accounts-team
-- expect: users no longer has legacy_flag
-- rollback: ALTER TABLE users ADD COLUMN legacy_flag boolean;
SET lock_timeout = '2s';
ALTER TABLE users DROP COLUMN legacy_flag;
