-- no-transaction
-- owner: @identity-team
CREATE INDEX CONCURRENTLY users_email_lower_idx ON users (lower(email));
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
