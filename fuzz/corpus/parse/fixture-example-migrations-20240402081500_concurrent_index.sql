-- no-transaction
-- owner: @payments-team
-- expect: plan "SELECT * FROM orders WHERE status = 'pending'" uses index orders_pending_idx
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS orders_pending_idx;
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY orders_pending_idx ON orders (created_at) WHERE status = 'pending';
