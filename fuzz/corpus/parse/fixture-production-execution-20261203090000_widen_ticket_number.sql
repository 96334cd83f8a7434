-- owner: @support-platform
-- expect: succeeds
-- rollback: irreversible
SET lock_timeout = '2s';
-- Ticket numbers will pass 2^31 next year.
ALTER TABLE tickets ALTER COLUMN number TYPE bigint;
