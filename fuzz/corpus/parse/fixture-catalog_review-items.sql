-- An empty `items` table; each test fills it with as many rows as it needs (generate_series)
-- and analyzes it, so that the same migration meets a small table in one database and a large
-- one in another. Autovacuum stays off so that only the test decides what the statistics say.
CREATE TABLE items (
    id bigint PRIMARY KEY,
    sku text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now()
) WITH (autovacuum_enabled = off);
