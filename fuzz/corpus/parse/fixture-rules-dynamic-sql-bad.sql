-- owner: @platform
-- expect: every tenant table has a created_at index
-- rollback: irreversible
SET lock_timeout = '2s';
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'tenants' LOOP
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON tenants.%I (created_at)', t || '_created_at_idx', t);
    END LOOP;
END
$$;
