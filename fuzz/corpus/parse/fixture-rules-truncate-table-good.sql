-- owner: @auth-team
-- expect: expired sessions are removed; active sessions stay
-- rollback: irreversible (only expired sessions are deleted)
DELETE FROM sessions WHERE expires_at < now() - interval '30 days';
