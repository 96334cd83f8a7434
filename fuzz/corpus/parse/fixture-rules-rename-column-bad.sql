-- owner: @accounts-team
-- expect: users.email is available as users.email_address
-- rollback: ALTER TABLE users RENAME COLUMN email_address TO email;
SET lock_timeout = '2s';
ALTER TABLE users RENAME COLUMN email TO email_address;
