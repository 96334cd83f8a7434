-- owner: @billing-team
-- expect: rows <= 5000
-- rollback: irreversible
-- One batch of the move; the backfill script repeats it with the next id range until it
-- passes the largest id.
SET lock_timeout = '2s';
UPDATE subscriptions SET plan = 'basic' WHERE plan = 'legacy' AND id >= 1 AND id < 2001;
