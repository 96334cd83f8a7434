-- no-transaction
-- owner: @payments-team
-- expect: space freed by the purge of 2019 orders is reused; pg_repack shrinks the files later
-- rollback: irreversible (VACUUM changes no data; nothing to undo)
SET lock_timeout = '2s';
-- Plain VACUUM marks dead rows reusable without blocking reads or writes.
VACUUM (ANALYZE) orders;
