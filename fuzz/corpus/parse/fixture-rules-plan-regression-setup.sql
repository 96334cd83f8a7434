-- watch: fixtures/watch/queries.sql
-- The copy that plan-regression's examples run against, with fixtures/watch/queries.sql as
-- the watched queries: orders looked up by customer through orders_customer_id_idx.
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    status text NOT NULL DEFAULT 'new',
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO orders (customer_id, status, created_at)
SELECT i % 5000, CASE WHEN i % 100 = 0 THEN 'stuck' ELSE 'shipped' END,
       timestamptz '2025-01-01' + i * interval '1 minute'
FROM generate_series(1, 50000) AS i;

CREATE INDEX orders_customer_id_idx ON orders (customer_id);
ANALYZE orders;
