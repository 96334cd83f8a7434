-- owner: @support-team
-- expect: agents can leave an internal note on an order
-- rollback: ALTER TABLE orders DROP COLUMN IF EXISTS internal_note;
ALTER TABLE orders ADD COLUMN internal_note text;
