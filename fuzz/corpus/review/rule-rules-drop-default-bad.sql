-- owner: @accounts
-- expect: users.status has no default
-- rollback: ALTER TABLE users ALTER COLUMN status SET DEFAULT 'active';
SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN status DROP DEFAULT;
