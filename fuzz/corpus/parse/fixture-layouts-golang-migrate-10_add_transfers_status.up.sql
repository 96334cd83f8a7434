BEGIN;
SET LOCAL lock_timeout = '3s';
ALTER TABLE transfers ADD COLUMN status text NOT NULL DEFAULT 'pending';
COMMIT;
