-- A copy of the shop's production database for the catalog-level example in the README:
-- the first two migrations of fixtures/example/migrations are applied (sqlx recorded them,
-- with their checksums), the tables hold production-sized data, and an index the team added
-- by hand last year is still there.
--
--   createdb shop_copy && psql -q -d shop_copy -f fixtures/example/copy.sql
--
-- Loading takes a few seconds (1.2 million orders).

CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    total_cents bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX orders_customer_id_idx ON orders (customer_id);

ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'delivered';

-- Added by hand during an incident, never written down as a migration.
CREATE INDEX orders_created_at_status_idx ON orders (created_at, status);

INSERT INTO customers (email, created_at)
SELECT 'customer' || g || '@example.com', now() - (g % 1500) * interval '1 day'
FROM generate_series(1, 50000) AS g;

INSERT INTO orders (customer_id, total_cents, created_at, status)
SELECT 1 + g % 50000,
       100 + g % 90000,
       now() - (g % 1460) * interval '1 day' - (g % 86400) * interval '1 second',
       CASE WHEN g % 50 = 0 THEN 'pending' ELSE 'delivered' END
FROM generate_series(1, 1200000) AS g;

-- sqlx's history table, as sqlx-postgres creates it, with the two applied migrations and
-- the SHA-384 checksums of their files.
CREATE TABLE _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
);
INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES
    (20240101090000, 'create shop', true,
     '\xd6f72d26bcd3081b012da7895343f2e7389dce44372ab2e147e419de41ded01d192d8d3b199345763c4256bf418dc6c8', 41000000),
    (20240215100000, 'add order status', true,
     '\x6c591818c78871fba439145fd357da2ed380ee12eb660f0df262f5a8fc87723aec605ad79745b740b6df3435c80028f2', 9000000);

ANALYZE;
