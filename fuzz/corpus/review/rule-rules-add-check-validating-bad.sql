-- owner: @payments-team
-- expect: no order can have a negative amount
-- rollback: ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_amount_not_negative;
SET lock_timeout = '2s';
ALTER TABLE orders
    ADD CONSTRAINT orders_amount_not_negative CHECK (amount_cents >= 0);
