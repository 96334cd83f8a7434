BEGIN;
-- Running upgrade  -> a1
CREATE TABLE t (id int);
-- Running upgrade a1 -> b2
ALTER TABLE t ADD COLUMN c int DEFAULT now();
UPDATE alembic_version SET version_num='b2';
COMMIT;
