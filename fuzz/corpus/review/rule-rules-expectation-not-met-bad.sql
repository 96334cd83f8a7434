-- owner: @fulfilment-team
-- expect: rows <= 100
-- rollback: irreversible
-- The author expected a handful of stuck orders; the copy has 200.
SET lock_timeout = '2s';
UPDATE orders SET status = 'cancelled' WHERE status = 'stuck';
