-- owner: @identity-team
-- expect: no two users share an email
-- rollback: ALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_key;
SET lock_timeout = '2s';
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
