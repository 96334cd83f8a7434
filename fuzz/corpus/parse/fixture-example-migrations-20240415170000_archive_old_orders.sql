-- expect: old orders move to orders_archive
-- rollback: irreversible
SET lock_timeout = '2s';
CREATE TABLE orders_archive (LIKE orders INCLUDING ALL);
INSERT INTO orders_archive SELECT * FROM orders WHERE created_at < now() - interval '2 years';
DELETE FROM orders WHERE created_at < now() - interval '2 years';
-- migsafe:allow rename-column reason: the reporting service reads both names until release 42
ALTER TABLE orders RENAME COLUMN total_cents TO amount_cents;
