-- owner: @catalog
-- +goose Up
ALTER TABLE products ADD COLUMN sku text;

-- +goose Down
ALTER TABLE products DROP COLUMN sku;
