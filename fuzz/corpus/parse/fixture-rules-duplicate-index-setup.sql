-- The copy that duplicate-index's examples are reviewed against: orders, whose customer
-- lookups already use orders_customer_id_idx (its idx_scan is above zero after this file).
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    status text NOT NULL DEFAULT 'new',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);

INSERT INTO orders (customer_id, status, created_at)
SELECT i % 500,
       CASE WHEN i % 10 = 0 THEN 'open' ELSE 'shipped' END,
       timestamptz '2024-01-01' + i * interval '1 minute'
FROM generate_series(1, 20000) AS i;

ANALYZE orders;

-- A lookup that uses the index, so the copy's statistics show it in use.
SET enable_seqscan = off;
SELECT count(*) FROM orders WHERE customer_id = 42;
RESET enable_seqscan;
SELECT pg_stat_force_next_flush();
