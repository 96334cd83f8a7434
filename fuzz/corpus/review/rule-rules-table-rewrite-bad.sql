-- owner: @billing-team
-- expect: invoices.amount is numeric(12,2)
-- rollback: irreversible
SET lock_timeout = '2s';
-- Idempotent, so safe to re-run; but the helper (created by an earlier migration) rewrites
-- the table and its indexes, and no rule can read that from this migration's SQL.
SELECT normalize_invoice_amounts();
