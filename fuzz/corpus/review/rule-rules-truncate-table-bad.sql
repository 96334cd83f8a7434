-- owner: @auth-team
-- expect: expired sessions are removed
-- rollback: irreversible
SET lock_timeout = '2s';
TRUNCATE sessions;
