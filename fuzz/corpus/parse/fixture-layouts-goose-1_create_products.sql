-- owner: @catalog-team
-- +goose Up
CREATE TABLE products (
    id bigserial PRIMARY KEY,
    sku text NOT NULL,
    name text NOT NULL,
    price_cents integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE products;
