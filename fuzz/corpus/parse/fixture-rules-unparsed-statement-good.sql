-- owner: @data-team
-- expect: reporting.daily_totals exists
-- rollback: DROP TABLE reporting.daily_totals;
CREATE TABLE reporting.daily_totals (
    day date PRIMARY KEY,
    total_cents bigint NOT NULL
);
