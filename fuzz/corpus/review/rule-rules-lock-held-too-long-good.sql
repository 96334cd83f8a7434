-- no-transaction
-- owner: @fulfilment-team
-- expect: every order has updated_at
-- rollback: DROP TRIGGER IF EXISTS orders_touch ON orders;
SET lock_timeout = '2s';
-- Outside a transaction the trigger's SHARE ROW EXCLUSIVE lock ends with its statement; the
-- backfill then only takes ROW EXCLUSIVE, which blocks no reads or writes of other rows.
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
UPDATE orders SET updated_at = created_at WHERE updated_at IS NULL;
