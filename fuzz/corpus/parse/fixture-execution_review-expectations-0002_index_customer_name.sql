-- owner: @shop-core
-- expect: succeeds
-- rollback: DROP INDEX customers_name_idx;
SET lock_timeout = '2s';
CREATE INDEX customers_name_idx ON customers (name);
