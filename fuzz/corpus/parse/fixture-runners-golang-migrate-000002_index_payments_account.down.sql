DROP INDEX CONCURRENTLY IF EXISTS payments_account_id_idx;
