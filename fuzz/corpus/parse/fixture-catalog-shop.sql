-- A small shop, shaped so that every catalog fact migsafe reads has a known answer:
--   * orders: 200,000 rows (a medium table by the default thresholds), analyzed, with a
--     trigger, a covered foreign key, a partial index and a multi-column unique constraint;
--   * customers: 1,000 rows (small), an expression index, an identity key;
--   * products: a CHECK constraint and a generated column;
--   * order_items: an FK covered by the leading column of the primary key, and one that is
--     not (second column of the primary key);
--   * payments: an uncovered FK added NOT VALID;
--   * shipments: a two-column FK covered by an index listing the columns in another order;
--   * documents: values large enough to be stored out of line (TOAST);
--   * events: a partitioned table with two partitions and a partitioned index;
--   * billing.invoices: a table outside the search path, with a cross-schema FK;
--   * a view, and a materialized view with a unique index.
-- Runnable with `psql -f` as well as by the test harness.

CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    name text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX customers_email_lower_idx ON customers (lower(email));

CREATE TABLE products (
    id serial PRIMARY KEY,
    sku varchar(32) NOT NULL UNIQUE,
    price_cents integer NOT NULL CHECK (price_cents >= 0),
    price numeric GENERATED ALWAYS AS (price_cents / 100.0) STORED
);

CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    status text NOT NULL DEFAULT 'new',
    total_cents integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    note text,
    CONSTRAINT orders_id_customer_id_key UNIQUE (id, customer_id)
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE INDEX orders_open_created_at_idx ON orders (created_at) WHERE status <> 'shipped';

CREATE FUNCTION touch_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_at := coalesce(NEW.created_at, now());
    RETURN NEW;
END
$$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch_order();

CREATE TABLE order_items (
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id integer NOT NULL REFERENCES products (id),
    quantity integer NOT NULL,
    PRIMARY KEY (order_id, product_id)
);

CREATE TABLE payments (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL,
    amount_cents integer NOT NULL
);
ALTER TABLE payments
    ADD CONSTRAINT payments_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;

CREATE TABLE shipments (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL,
    customer_id bigint NOT NULL,
    carrier text NOT NULL,
    FOREIGN KEY (order_id, customer_id) REFERENCES orders (id, customer_id)
);
CREATE INDEX shipments_customer_order_idx ON shipments (customer_id, order_id, carrier);

CREATE TABLE documents (
    id integer PRIMARY KEY,
    body text NOT NULL
);

CREATE TABLE events (
    id bigint NOT NULL,
    happened_at date NOT NULL,
    kind text NOT NULL
) PARTITION BY RANGE (happened_at);
CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX events_happened_at_idx ON events (happened_at);

CREATE SCHEMA billing;
CREATE TABLE billing.invoices (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES public.orders (id),
    amount_cents integer NOT NULL
);

INSERT INTO customers (email, name)
SELECT 'customer' || g || '@example.com', 'Customer ' || g
FROM generate_series(1, 1000) AS g;

INSERT INTO products (sku, price_cents)
SELECT 'SKU-' || g, g * 100 FROM generate_series(1, 50) AS g;

INSERT INTO orders (customer_id, status, total_cents, created_at)
SELECT 1 + g % 1000,
       CASE WHEN g % 10 = 0 THEN 'new' ELSE 'shipped' END,
       g % 10000,
       timestamptz '2024-06-01' - g * interval '1 minute'
FROM generate_series(1, 200000) AS g;

INSERT INTO order_items (order_id, product_id, quantity)
SELECT g, 1 + g % 50, 1 FROM generate_series(1, 2000) AS g;

INSERT INTO shipments (order_id, customer_id, carrier)
SELECT id, customer_id, 'post' FROM orders WHERE id <= 100;

-- About 100 kB of hex per row: too big for the heap page, so it goes to TOAST.
INSERT INTO documents (id, body)
SELECT d, (SELECT string_agg(md5(d::text || '-' || g::text), '') FROM generate_series(1, 3000) AS g)
FROM generate_series(1, 5) AS d;

INSERT INTO events (id, happened_at, kind)
SELECT g, date '2023-01-01' + (g % 700), 'click' FROM generate_series(1, 7000) AS g;

CREATE VIEW open_orders AS
    SELECT id, customer_id, created_at FROM orders WHERE status <> 'shipped';

CREATE MATERIALIZED VIEW customer_totals AS
    SELECT customer_id, sum(total_cents) AS total_cents FROM orders GROUP BY customer_id;
CREATE UNIQUE INDEX customer_totals_customer_id_idx ON customer_totals (customer_id);

-- batch
-- ANALYZE outside the loading transaction, so reltuples/relpages are real.
ANALYZE;
