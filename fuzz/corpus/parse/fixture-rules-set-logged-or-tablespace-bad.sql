-- owner: @platform-team
-- expect: audit_log lives on the archive tablespace
-- rollback: ALTER TABLE audit_log SET TABLESPACE pg_default;
SET lock_timeout = '2s';
ALTER TABLE audit_log SET TABLESPACE archive_space;
