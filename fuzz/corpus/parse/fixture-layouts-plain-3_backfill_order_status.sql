-- owner: @payments-team
-- expect: rows <= 50000
-- This file manages its own transaction so the lock timeout is scoped to it.
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN status text;
UPDATE orders SET status = 'placed' WHERE status IS NULL;
COMMIT;
