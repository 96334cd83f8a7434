-- owner: @billing-team
-- expect: invoices.amount_exact exists
-- rollback: ALTER TABLE invoices DROP COLUMN IF EXISTS amount_exact;
SET lock_timeout = '2s';
-- A nullable column without a default changes only the catalog; a batched backfill fills it
-- in later migrations, and the application switches over before the old column is dropped.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM information_schema.columns
                   WHERE table_name = 'invoices' AND column_name = 'amount_exact') THEN
        ALTER TABLE invoices ADD COLUMN amount_exact numeric(12,2);
    END IF;
END $$;
