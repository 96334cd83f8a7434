-- no-transaction
-- owner: @fulfilment-team
-- expect: orders_note_idx is gone; no query used it (idx_scan stayed 0 on production for 30 days)
-- rollback: CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_note_idx ON orders (note);
SET lock_timeout = '2s';
DROP INDEX CONCURRENTLY IF EXISTS orders_note_idx;
