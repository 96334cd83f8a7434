-- owner: @growth-team
-- expect: rows <= 10000
-- rollback: irreversible
-- One batch of the backfill; the script repeats it with the next id range.
UPDATE users SET newsletter_opt_in = false WHERE id >= 1 AND id < 10001;
