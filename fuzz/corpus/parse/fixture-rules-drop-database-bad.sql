-- no-transaction
-- owner: @platform-team
-- expect: the legacy reporting database is gone
-- rollback: irreversible
DROP DATABASE legacy_reports;
