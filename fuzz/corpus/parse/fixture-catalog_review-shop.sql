-- The copy the catalog-rule tests review against (tests/catalog_review.rs), with the
-- thresholds of migsafe.toml next to this file in mind:
--   * customers: 200 rows (small);
--   * orders: 20,000 rows (large): indexed on id, customer_id (200 customers, 100 orders
--     each), created_at and note; nothing indexes status. 200 orders are `stuck`, 19,800
--     `shipped`;
--   * payments.order_id has an index, refunds.order_id has none; neither has a foreign key yet;
--   * orders_archive: empty, the target of an INSERT ... SELECT.
-- Autovacuum is off on every table so that no background write changes the statistics the
-- tests compare. Runnable with `psql -f` as well as by the test harness.

CREATE TABLE customers (
    id bigint PRIMARY KEY,
    email text NOT NULL
) WITH (autovacuum_enabled = off);

CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    status text NOT NULL,
    note text,
    created_at timestamptz NOT NULL
) WITH (autovacuum_enabled = off);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE INDEX orders_created_at_idx ON orders (created_at);
CREATE INDEX orders_note_idx ON orders (note);

CREATE TABLE payments (
    id bigint PRIMARY KEY,
    order_id bigint NOT NULL,
    amount_cents integer NOT NULL
) WITH (autovacuum_enabled = off);
CREATE INDEX payments_order_id_idx ON payments (order_id);

CREATE TABLE refunds (
    id bigint PRIMARY KEY,
    order_id bigint NOT NULL,
    amount_cents integer NOT NULL
) WITH (autovacuum_enabled = off);

CREATE TABLE orders_archive (LIKE orders) WITH (autovacuum_enabled = off);

INSERT INTO customers (id, email)
SELECT g, 'customer' || g || '@example.com' FROM generate_series(1, 200) AS g;

INSERT INTO orders (id, customer_id, status, created_at)
SELECT g,
       1 + g % 200,
       CASE WHEN g % 100 = 0 THEN 'stuck' ELSE 'shipped' END,
       timestamptz '2024-01-01' + g * interval '1 minute'
FROM generate_series(1, 20000) AS g;

INSERT INTO payments (id, order_id, amount_cents)
SELECT g, g, 1000 FROM generate_series(1, 500) AS g;

INSERT INTO refunds (id, order_id, amount_cents)
SELECT g, g * 10, 500 FROM generate_series(1, 50) AS g;

-- batch
-- Outside the loading transaction, so that reltuples and relpages are real.
ANALYZE;
