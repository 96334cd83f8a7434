-- thresholds: large_table_rows = 10000, batch_rows = 5000
-- The copy that seq-scan-on-large-table's examples are reviewed against. A table above the
-- default threshold (1,000,000 rows) would take long to build in tests, so the examples run
-- with the thresholds above: orders (20,000 rows) is large, and the 200 `stuck` orders are
-- fewer than a batch. Only `id` and `customer_id` are indexed; nothing covers `status`.
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    status text NOT NULL DEFAULT 'new',
    note text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);

INSERT INTO orders (customer_id, status, created_at)
SELECT i % 1000,
       CASE WHEN i % 100 = 0 THEN 'stuck' ELSE 'shipped' END,
       timestamptz '2024-01-01' + i * interval '1 minute'
FROM generate_series(1, 20000) AS i;

ANALYZE orders;
