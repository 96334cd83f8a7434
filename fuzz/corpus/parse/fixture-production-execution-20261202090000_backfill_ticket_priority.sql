-- owner: @support-platform
-- expect: lock <= 10min
-- rollback: ALTER TABLE tickets DROP COLUMN IF EXISTS priority;
SET lock_timeout = '2s';
ALTER TABLE tickets ADD COLUMN priority integer;
-- Escalated tickets jump the queue.
UPDATE tickets SET priority = 1 WHERE status = 'escalated';
