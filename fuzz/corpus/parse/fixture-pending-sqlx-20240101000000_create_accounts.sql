-- owner: @accounts
-- rollback: DROP TABLE accounts;
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL
);
