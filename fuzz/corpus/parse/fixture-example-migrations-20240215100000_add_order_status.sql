-- owner: @shop-core
-- expect: every existing order reads status 'delivered'
-- rollback: ALTER TABLE orders DROP COLUMN status;
SET lock_timeout = '2s';
-- A constant default is stored in the catalog (PostgreSQL 11+): no table rewrite.
ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'delivered';
