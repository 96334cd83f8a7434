-- no-transaction
-- owner: @payments-team
-- expect: orders gives back the disk space freed by the purge of 2019 orders
-- rollback: irreversible (VACUUM FULL changes no data; nothing to undo)
SET lock_timeout = '2s';
VACUUM FULL orders;
