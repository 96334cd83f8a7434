-- owner: @shop-core
-- expect: tables customers and orders exist and are empty
-- rollback: DROP TABLE orders; DROP TABLE customers;
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    total_cents bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The table is new and empty, so a plain index build locks nothing that matters.
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
