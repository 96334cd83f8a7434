-- owner: @fulfilment-team
-- expect: rows <= 2000
-- rollback: UPDATE orders SET note = NULL WHERE note = 'delivered' AND id <= 2000;
-- One batch: the backfill script repeats it with the next id range.
SET lock_timeout = '2s';
UPDATE orders SET note = 'delivered' WHERE status = 'shipped' AND id BETWEEN 1 AND 2000;
