BEGIN;

-- Running upgrade 27c6a30d7c24 -> 3512b954651e

-- owner: @accounts-team
-- rollback: downgrade section below

ALTER TABLE account ADD COLUMN email VARCHAR(320);

UPDATE alembic_version SET version_num='3512b954651e' WHERE alembic_version.version_num = '27c6a30d7c24';

COMMIT;

BEGIN;

-- Running upgrade 3512b954651e -> 4d7f0a1b2c3e

ALTER TABLE account ALTER COLUMN email SET NOT NULL;

UPDATE alembic_version SET version_num='4d7f0a1b2c3e' WHERE alembic_version.version_num = '3512b954651e';

COMMIT;

BEGIN;

-- Running downgrade 4d7f0a1b2c3e -> 3512b954651e

ALTER TABLE account ALTER COLUMN email DROP NOT NULL;

UPDATE alembic_version SET version_num='3512b954651e' WHERE alembic_version.version_num = '4d7f0a1b2c3e';

-- Running downgrade 3512b954651e -> 27c6a30d7c24

ALTER TABLE account DROP COLUMN email;

UPDATE alembic_version SET version_num='27c6a30d7c24' WHERE alembic_version.version_num = '3512b954651e';

COMMIT;

