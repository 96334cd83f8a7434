-- owner: @search-team
-- expect: orders_legacy_status_idx is gone; no query plan used it
-- rollback: CREATE INDEX CONCURRENTLY orders_legacy_status_idx ON orders (status);
SET lock_timeout = '2s';
DROP INDEX orders_legacy_status_idx;
