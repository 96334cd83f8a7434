-- no-transaction
-- owner: @fulfilment-team
-- expect: succeeds
-- rollback: DROP INDEX CONCURRENTLY orders_status_ix;
-- The rollback misspells the index: it fails with "index does not exist".
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
