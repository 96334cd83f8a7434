-- lock_budget_ms: 250
-- The copy that lock-held-too-long's examples run on: 180,000 orders, some not yet stamped
-- with updated_at, and the trigger function the migration installs. The budget is lowered
-- so that a fixture-sized backfill counts as too long.
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status text NOT NULL DEFAULT 'new',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz
);

INSERT INTO orders (status, created_at, updated_at)
SELECT 'shipped', now() - i * interval '1 minute',
       CASE WHEN i % 2 = 0 THEN now() END
FROM generate_series(1, 180000) AS i;

CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := coalesce(NEW.updated_at, now());
    RETURN NEW;
END $$;

ANALYZE orders;
