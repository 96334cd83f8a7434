-- owner: @scheduling-team
-- expect: no two maintenance windows overlap
-- rollback: DROP TABLE IF EXISTS maintenance_windows;
-- Declared with the table: there are no rows to check and nobody to block.
CREATE TABLE maintenance_windows (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    during tstzrange NOT NULL,
    CONSTRAINT maintenance_windows_no_overlap EXCLUDE USING gist (during WITH &&)
);
