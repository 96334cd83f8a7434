-- owner: @payments-team
-- expect: orders_customer_id_idx shrinks back to its size after the purge
-- rollback: irreversible (REINDEX rebuilds the same definition; nothing to undo)
SET lock_timeout = '2s';
REINDEX INDEX orders_customer_id_idx;
