-- +goose NO TRANSACTION
-- owner: @catalog-team
-- +goose Up
CREATE UNIQUE INDEX CONCURRENTLY products_sku_idx ON products (sku);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS products_sku_idx;
