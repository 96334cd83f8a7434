-- owner: @accounts-team
-- expect: users no longer has legacy_flag
-- rollback: ALTER TABLE users ADD COLUMN legacy_flag boolean; (values are not restored)
SET lock_timeout = '2s';
-- migsafe:allow drop-column reason: ignored by the User model since release 2024.06, no reads or writes since
ALTER TABLE users DROP COLUMN legacy_flag;
