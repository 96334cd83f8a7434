-- no-transaction
-- owner: @payments-team
-- expect: no order can have a negative amount
-- rollback: ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_amount_not_negative;
SET lock_timeout = '2s';
-- Brief lock: only new and updated rows are checked from now on.
ALTER TABLE orders
    ADD CONSTRAINT orders_amount_not_negative CHECK (amount_cents >= 0) NOT VALID;
-- Its own transaction: scans old rows while reads and writes continue.
ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_not_negative;
