--liquibase formatted sql

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
