-- owner: @analytics-team
-- expect: sales_daily_totals includes the corrected refunds
-- rollback: irreversible (the view holds the current query result; refresh again to redo)
SET lock_timeout = '2s';
REFRESH MATERIALIZED VIEW sales_daily_totals;
