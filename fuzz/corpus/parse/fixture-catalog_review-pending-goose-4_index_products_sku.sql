-- owner: @catalog-team
-- expect: lookups by sku use products_sku_idx
-- +goose Up
CREATE INDEX products_sku_idx ON products (sku);

-- +goose Down
DROP INDEX products_sku_idx;
