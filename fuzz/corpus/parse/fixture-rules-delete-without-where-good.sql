-- owner: @auth-team
-- expect: rows <= 10000
-- rollback: irreversible (only expired tokens are deleted)
DELETE FROM password_resets
WHERE id IN (
    SELECT id FROM password_resets WHERE expires_at < now() - interval '1 day' LIMIT 10000
);
