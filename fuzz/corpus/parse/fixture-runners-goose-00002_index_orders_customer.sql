-- owner: @orders-team
-- +goose NO TRANSACTION
-- +goose Up
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);

-- +goose Down
DROP INDEX orders_customer_id_idx;
