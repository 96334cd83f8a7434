-- owner: @identity-team
ALTER TABLE users ADD COLUMN last_login_at timestamptz;
