-- owner: @accounts
-- expect: new users start as pending
-- rollback: ALTER TABLE users ALTER COLUMN status SET DEFAULT 'active';
SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN status SET DEFAULT 'pending';
