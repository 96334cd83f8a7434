\set ON_ERROR_STOP 1
\connect other
CREATE INDEX i ON t (c);
\i other.sql
