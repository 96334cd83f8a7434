-- Running upgrade 4d7f0a1b2c3e -> 5e8a9b0c1d2f

-- owner: @accounts-team

CREATE INDEX CONCURRENTLY ix_account_email ON account (email);

UPDATE alembic_version SET version_num='5e8a9b0c1d2f' WHERE alembic_version.version_num = '4d7f0a1b2c3e';

-- Running upgrade 5e8a9b0c1d2f -> 6f9b0c1d2e3a

ALTER TABLE account ADD COLUMN archived_at TIMESTAMP WITH TIME ZONE;

UPDATE alembic_version SET version_num='6f9b0c1d2e3a' WHERE alembic_version.version_num = '5e8a9b0c1d2f';

