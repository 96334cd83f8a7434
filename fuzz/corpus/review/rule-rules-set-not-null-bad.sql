-- owner: @identity-team
-- expect: every user has an email
-- rollback: ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
