-- The copy that foreign-key-without-index's examples are reviewed against: customers and
-- their orders, with nothing indexing orders.customer_id.
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL
);
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO customers (email)
SELECT 'customer' || i || '@example.com' FROM generate_series(1, 1000) AS i;
INSERT INTO orders (customer_id, created_at)
SELECT 1 + i % 1000, timestamptz '2024-01-01' + i * interval '1 minute'
FROM generate_series(1, 20000) AS i;

ANALYZE customers;
ANALYZE orders;
