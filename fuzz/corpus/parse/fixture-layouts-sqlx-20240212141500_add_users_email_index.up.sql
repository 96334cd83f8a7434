-- no-transaction
-- owner: @identity-team
-- expect: plan "SELECT * FROM users WHERE email = 'a@example.com'" uses index users_email_idx
CREATE UNIQUE INDEX CONCURRENTLY users_email_idx ON users (email);
