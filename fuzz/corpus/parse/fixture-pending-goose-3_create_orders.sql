-- owner: @orders
-- +goose Up
CREATE TABLE orders (id bigint PRIMARY KEY, product_id bigint NOT NULL REFERENCES products (id));

-- +goose Down
DROP TABLE orders;
