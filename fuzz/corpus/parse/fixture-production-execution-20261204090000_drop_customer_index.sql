-- no-transaction
-- owner: @support-platform
-- expect: succeeds
-- rollback: CREATE INDEX CONCURRENTLY IF NOT EXISTS tickets_customer_id_idx ON tickets (customer_id);
-- "Nobody uses it" (the staging copy says so). sqlx sends a no-transaction file as one query,
-- so CONCURRENTLY must be its only statement.
DROP INDEX CONCURRENTLY tickets_customer_id_idx;
