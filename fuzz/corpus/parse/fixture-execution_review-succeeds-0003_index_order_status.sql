-- owner: @shop-core
-- expect: succeeds
-- rollback: DROP TABLE order_tags; DROP INDEX orders_status_idx;
SET lock_timeout = '2s';
CREATE INDEX orders_status_idx ON orders (status);
CREATE TABLE order_tags (order_id bigint NOT NULL REFERENCES orders (id), tag text NOT NULL);
