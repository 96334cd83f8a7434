-- owner: @support-platform
-- expect: succeeds
-- rollback: DROP INDEX IF EXISTS tickets_opened_at_idx;
SET lock_timeout = '2s';
-- The reports page filters tickets by when they were opened.
CREATE INDEX tickets_opened_at_idx ON tickets (opened_at);
