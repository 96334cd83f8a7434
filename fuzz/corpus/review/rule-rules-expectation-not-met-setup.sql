-- The copy that expectation-not-met's examples run against: 20,000 orders, of which 200 are
-- stuck, with an index on status.
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status text NOT NULL DEFAULT 'new',
    note text
);

INSERT INTO orders (status, note)
SELECT CASE WHEN i % 100 = 0 THEN 'stuck' ELSE 'shipped' END, 'order ' || i
FROM generate_series(1, 20000) AS i;

CREATE INDEX orders_status_idx ON orders (status);
ANALYZE orders;
