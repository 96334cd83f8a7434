-- owner: @payments-team
-- expect: order totals can be filtered in SQL once the batched backfill is done
-- rollback: ALTER TABLE orders DROP COLUMN IF EXISTS total_cents;
SET lock_timeout = '2s';
-- Instant: a plain nullable column. A trigger fills it for new rows and a batched
-- backfill fills old rows (next migrations).
ALTER TABLE orders ADD COLUMN total_cents bigint;
