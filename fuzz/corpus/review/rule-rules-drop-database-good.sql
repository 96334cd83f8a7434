-- owner: @platform-team
-- expect: nothing can connect to legacy_reports; a DBA drops it after the final dump
-- rollback: GRANT CONNECT ON DATABASE legacy_reports TO PUBLIC;
REVOKE CONNECT ON DATABASE legacy_reports FROM PUBLIC;
