-- owner: @fulfilment-team
-- expect: every order has updated_at
-- rollback: DROP TRIGGER IF EXISTS orders_touch ON orders;
SET lock_timeout = '2s';
-- CREATE TRIGGER takes SHARE ROW EXCLUSIVE on orders, and the transaction keeps it until
-- COMMIT: every write to orders waits for the whole backfill below.
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
UPDATE orders SET updated_at = created_at WHERE updated_at IS NULL;
