-- The copy that schema-drift's examples are reviewed against: orders has no `region` column
-- (the migration below expects one that an earlier, unreviewed change would have added).
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status text NOT NULL DEFAULT 'new',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_status_idx ON orders (status);

INSERT INTO orders (status, created_at)
SELECT CASE WHEN i % 10 = 0 THEN 'open' ELSE 'shipped' END,
       timestamptz '2024-01-01' + i * interval '1 minute'
FROM generate_series(1, 2000) AS i;

ANALYZE orders;
