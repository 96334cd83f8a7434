-- golang-migrate's history table for PostgreSQL: one row, the current version.
CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
