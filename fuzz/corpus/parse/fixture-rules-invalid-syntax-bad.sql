-- owner: @accounts
-- expect: users.nickname and users.locale exist
-- rollback: ALTER TABLE users DROP COLUMN IF EXISTS nickname, DROP COLUMN IF EXISTS locale;
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN nickname text
ALTER TABLE users ADD COLUMN locale text;
