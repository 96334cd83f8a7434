-- owner: @fulfilment-team
-- expect: rows <= 500
-- rollback: irreversible
-- orders_customer_id_idx finds the customer's 20 orders without reading the table.
SET lock_timeout = '2s';
UPDATE orders SET status = 'cancelled', note = 'customer closed account' WHERE customer_id = 42;
