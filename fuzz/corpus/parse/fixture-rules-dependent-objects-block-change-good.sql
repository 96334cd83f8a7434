-- owner: @catalogue-team
-- expect: succeeds
-- rollback: ALTER TABLE film ALTER COLUMN replacement_cost TYPE numeric(5,2);
SET lock_timeout = '2s';
-- No view or policy uses replacement_cost (checked in pg_depend); widening the precision
-- of numeric keeps the stored values, so PostgreSQL does not rewrite the table.
-- migsafe:allow column-type-change reason: widening numeric precision is metadata-only
ALTER TABLE film ALTER COLUMN replacement_cost TYPE numeric(7,2);
