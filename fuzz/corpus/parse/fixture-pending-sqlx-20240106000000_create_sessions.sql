-- owner: @auth
-- rollback: DROP TABLE sessions;
CREATE TABLE sessions (
    id uuid PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    expires_at timestamptz NOT NULL
);
