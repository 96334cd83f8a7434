-- thresholds: large_table_rows = 10000, batch_rows = 5000
-- The copy that dml-touches-many-rows' examples are reviewed against. A table with more rows
-- than the default batch threshold (100,000) would take long to build in tests, so the
-- examples run with the thresholds above: subscriptions (8,000 rows) is below the large-table
-- threshold, so scanning it is fine, but 7,000 of its rows are on the legacy plan, more than
-- one batch.
CREATE TABLE subscriptions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL,
    plan text NOT NULL,
    renews_on date NOT NULL
);

INSERT INTO subscriptions (account_id, plan, renews_on)
SELECT i,
       CASE WHEN i % 8 = 0 THEN 'pro' ELSE 'legacy' END,
       date '2025-01-01' + i % 365
FROM generate_series(1, 8000) AS i;

ANALYZE subscriptions;
