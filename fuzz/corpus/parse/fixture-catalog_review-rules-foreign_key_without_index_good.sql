-- owner: @billing-team
-- expect: every payment belongs to an order
-- rollback: ALTER TABLE payments DROP CONSTRAINT IF EXISTS payments_order_id_fkey;
-- payments_order_id_idx leads with payments.order_id.
ALTER TABLE payments ADD CONSTRAINT payments_order_id_fkey
    FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;
