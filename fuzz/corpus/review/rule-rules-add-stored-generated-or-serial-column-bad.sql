-- owner: @payments-team
-- expect: order totals can be filtered in SQL
-- rollback: ALTER TABLE orders DROP COLUMN IF EXISTS total_cents;
SET lock_timeout = '2s';
ALTER TABLE orders
    ADD COLUMN total_cents bigint GENERATED ALWAYS AS (quantity * unit_price_cents) STORED;
