-- owner: @fulfilment-team
-- expect: rows <= 500
-- expect: plan "SELECT id FROM orders WHERE status = 'cancelled'" uses index orders_status_idx
-- rollback: irreversible
SET lock_timeout = '2s';
UPDATE orders SET status = 'cancelled' WHERE status = 'stuck';
