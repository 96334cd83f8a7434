-- psql meta-commands are not SQL.
\set ON_ERROR_STOP on
CREATE INDEX idx_after_meta ON orders (k);
