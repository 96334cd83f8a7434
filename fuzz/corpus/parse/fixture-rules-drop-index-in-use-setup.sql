-- The copy that drop-index-in-use's examples are reviewed against: orders with an index on
-- status that queries use (idx_scan > 0 after this file) and one on note that nothing uses.
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status text NOT NULL DEFAULT 'new',
    note text
);
CREATE INDEX orders_status_idx ON orders (status);
CREATE INDEX orders_note_idx ON orders (note);

INSERT INTO orders (status, note)
SELECT CASE WHEN i % 100 = 0 THEN 'stuck' ELSE 'shipped' END, 'order ' || i
FROM generate_series(1, 20000) AS i;

ANALYZE orders;

-- Queries that use orders_status_idx; the flush makes the counter visible at once
-- (PostgreSQL 15+ publishes statistics lazily).
SET enable_seqscan = off;
SELECT count(*) FROM orders WHERE status = 'stuck';
SELECT id FROM orders WHERE status = 'stuck' ORDER BY id LIMIT 10;
RESET enable_seqscan;
SELECT pg_stat_force_next_flush();
