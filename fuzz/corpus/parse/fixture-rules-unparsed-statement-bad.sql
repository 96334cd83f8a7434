-- owner: @data-team
-- expect: reporting.daily_totals exists
-- rollback: DROP TABLE reporting.daily_totals;
\set ON_ERROR_STOP on
CREATE TABLE reporting.daily_totals (
    day date PRIMARY KEY,
    total_cents bigint NOT NULL
);
