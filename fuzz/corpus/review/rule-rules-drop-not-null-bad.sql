-- owner: @accounts-team
-- expect: users can sign up without a phone number
-- rollback: ALTER TABLE users ALTER COLUMN phone SET NOT NULL;
SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN phone DROP NOT NULL;
