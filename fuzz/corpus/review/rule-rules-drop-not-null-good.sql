-- owner: @accounts-team
-- expect: users can sign up without a phone number; phone stays NOT NULL for readers
-- rollback: ALTER TABLE users ALTER COLUMN phone DROP DEFAULT;
SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN phone SET DEFAULT '';
