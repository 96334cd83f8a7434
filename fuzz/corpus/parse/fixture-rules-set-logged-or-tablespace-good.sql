-- owner: @platform-team
-- expect: this year's audit log partition is created on the archive tablespace
-- rollback: DROP TABLE audit_log_2025;
-- New data goes to the new tablespace; existing rows are moved online with
-- pg_repack --tablespace, outside the migration.
SET default_tablespace = 'archive_space';
CREATE TABLE audit_log_2025 (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
