-- owner: @catalog
-- +goose Up
CREATE TABLE products (id bigint PRIMARY KEY, name text NOT NULL);

-- +goose Down
DROP TABLE products;
