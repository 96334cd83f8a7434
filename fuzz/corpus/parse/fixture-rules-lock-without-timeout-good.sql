-- owner: @support-team
-- expect: agents can leave an internal note on an order
-- rollback: ALTER TABLE orders DROP COLUMN IF EXISTS internal_note;
-- Give up after 2s instead of queueing every query on orders behind this ALTER.
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN internal_note text;
