-- owner: @billing-team
-- expect: every refund belongs to an order
-- rollback: ALTER TABLE refunds DROP CONSTRAINT IF EXISTS refunds_order_id_fkey;
-- Nothing indexes refunds.order_id: deleting an order scans refunds.
ALTER TABLE refunds ADD CONSTRAINT refunds_order_id_fkey
    FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;
