-- owner: @analytics-team
-- expect: sales_daily_totals includes the corrected refunds
-- rollback: irreversible (the view holds the current query result; refresh again to redo)
SET lock_timeout = '2s';
-- Needs the unique index sales_daily_totals_day_key (day); reads continue meanwhile.
REFRESH MATERIALIZED VIEW CONCURRENTLY sales_daily_totals;
