-- owner: @fulfilment-team
-- expect: rows <= 500
-- rollback: UPDATE orders SET status = 'stuck', note = NULL WHERE note = 'auto-cancelled: stuck';
-- No index covers orders.status: finding the 200 stuck orders reads all 20,000 rows.
SET lock_timeout = '2s';
UPDATE orders SET status = 'cancelled', note = 'auto-cancelled: stuck' WHERE status = 'stuck';
