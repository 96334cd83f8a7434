-- owner: @orders-team
-- expect: the new shape is in place
-- rollback: irreversible
-- Every kind of DDL: if migsafe ran any of it, the catalog would change.
CREATE INDEX orders_status_idx ON orders (status);
DROP INDEX orders_note_idx;
ALTER TABLE orders ADD COLUMN archived boolean NOT NULL DEFAULT false;
ALTER TABLE orders ALTER COLUMN note SET NOT NULL;
CREATE TABLE audit_log (id bigint PRIMARY KEY, entry text NOT NULL);
TRUNCATE payments;
DROP TABLE refunds;
DROP TABLE orders_archive;
