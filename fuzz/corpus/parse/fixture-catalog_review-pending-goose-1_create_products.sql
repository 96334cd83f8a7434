-- owner: @catalog-team
-- expect: products can be created
-- +goose Up
CREATE TABLE products (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    sku text NOT NULL
);

-- +goose Down
DROP TABLE products;
