-- owner: @orders
-- +goose Up
-- +goose NO TRANSACTION
CREATE INDEX CONCURRENTLY orders_product_id_idx ON orders (product_id);

-- +goose Down
DROP INDEX CONCURRENTLY orders_product_id_idx;
