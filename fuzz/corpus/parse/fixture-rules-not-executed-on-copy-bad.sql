--liquibase formatted sql

--changeset identity-team:41
-- owner: @identity-team
-- expect: every stored email is lower case
-- rollback: irreversible (the original spelling is not kept)
SET lock_timeout = '2s';
UPDATE accounts SET email = lower(email) WHERE email <> lower(email);

--changeset identity-team:42
-- owner: @identity-team
-- expect: succeeds
-- rollback: DROP TABLE account_nicknames;
SET lock_timeout = '2s';
CREATE TABLE account_nicknames (
    account_id bigint NOT NULL REFERENCES accounts (id),
    nickname text NOT NULL,
    PRIMARY KEY (account_id, nickname)
);
