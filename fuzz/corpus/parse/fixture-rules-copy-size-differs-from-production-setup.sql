-- production: production-<example>.json
-- The copy that copy-size-differs-from-production's examples are reviewed against: a staging database with
-- 1,000 support tickets. Each example is reviewed with `--production` and the snapshot next
-- to it (production-bad.json, production-good.json); "as-copy" in a snapshot's server
-- version stands for the copy's own server, whatever version the test server runs.
CREATE TABLE tickets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status text NOT NULL DEFAULT 'open',
    opened_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO tickets (status, opened_at)
SELECT CASE WHEN i % 10 = 0 THEN 'closed' ELSE 'open' END, now() - i * interval '1 hour'
FROM generate_series(1, 1000) AS i;

ANALYZE tickets;
