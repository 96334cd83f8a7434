--liquibase formatted sql

--changeset bob:4 dbms:mysql
ALTER TABLE users MODIFY COLUMN email varchar(320) NOT NULL;

--changeset bob:5 dbms:postgresql
ALTER TABLE users ALTER COLUMN email TYPE varchar(320);
/* liquibase rollback
ALTER TABLE users ALTER COLUMN email TYPE text;
*/
