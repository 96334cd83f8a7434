--liquibase formatted sql

--changeset alice:1
--comment: the users table
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
--rollback DROP TABLE users;

--changeset alice:2 runInTransaction:false
-- owner: @accounts
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
--rollback DROP INDEX CONCURRENTLY users_email_idx;

--changeset bob:3
ALTER TABLE users ADD COLUMN last_seen timestamptz;
--rollback not required
