-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY i ON t (c);
-- migrate:down
DROP INDEX i;
-- migrate:up
