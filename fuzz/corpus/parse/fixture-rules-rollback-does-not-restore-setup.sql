-- The copy that rollback-does-not-restore's examples run against.
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status text NOT NULL DEFAULT 'new'
);

INSERT INTO orders (status)
SELECT CASE WHEN i % 100 = 0 THEN 'stuck' ELSE 'shipped' END
FROM generate_series(1, 20000) AS i;

ANALYZE orders;
