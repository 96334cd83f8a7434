-- owner: @orders-team
-- expect: stuck orders are cancelled and old ones archived
-- rollback: irreversible
-- Every kind of DML: if migsafe ran any of it, the row counts would change.
UPDATE orders SET status = 'cancelled', note = 'auto-cancelled' WHERE status = 'stuck';
INSERT INTO orders_archive SELECT * FROM orders WHERE created_at < '2024-01-05';
DELETE FROM orders WHERE created_at < '2024-01-05';
UPDATE customers SET email = lower(email);
DELETE FROM refunds;
INSERT INTO payments (id, order_id, amount_cents) VALUES (100000, 1, 1);
