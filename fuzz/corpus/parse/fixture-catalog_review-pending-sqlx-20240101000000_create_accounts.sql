-- owner: @accounts-team
-- expect: accounts can be created
-- rollback: DROP TABLE accounts;
CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    email text NOT NULL,
    plan text NOT NULL DEFAULT 'free'
);
