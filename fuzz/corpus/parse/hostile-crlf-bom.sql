-- owner: @team
CREATE INDEX i ON t (c);
ALTER TABLE t ALTER COLUMN c TYPE bigint;
