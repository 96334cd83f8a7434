-- owner: @auth-team
-- expect: old password reset tokens are removed
-- rollback: irreversible
DELETE FROM password_resets;
