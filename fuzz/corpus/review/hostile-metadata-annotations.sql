-- owner: @payments
-- expect: rows <= 50000
-- expect: plan "SELECT * FROM orders WHERE id = 1" uses index orders_pkey
-- expect: lock < 2s
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS i;
-- migsafe:allow create-index-non-concurrently reason: new table
CREATE INDEX i ON t (c);
