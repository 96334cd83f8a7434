-- no-transaction
-- owner: @payments-team
-- expect: orders_customer_id_idx shrinks back to its size after the purge
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx_ccnew; (only if the rebuild was interrupted)
SET lock_timeout = '2s';
REINDEX INDEX CONCURRENTLY orders_customer_id_idx;
