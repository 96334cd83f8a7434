-- owner: @fulfilment-team
-- expect: every shipped order is marked
-- rollback: UPDATE orders SET note = NULL WHERE note = 'delivered';
-- 19,800 rows change in one transaction.
SET lock_timeout = '2s';
UPDATE orders SET note = 'delivered' WHERE status = 'shipped';
