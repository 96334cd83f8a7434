-- owner: @billing-team
-- expect: rows <= 5000
-- rollback: UPDATE accounts SET tier = 'standard' WHERE tier = 'gold' AND tier_changed_by = 'migration-0042';
SET lock_timeout = '2s';
-- The UPDATE locks only the rows it changes; concurrent writes elsewhere continue.
UPDATE accounts
SET tier = 'gold', tier_changed_by = 'migration-0042'
WHERE lifetime_value_cents > 10000000 AND tier <> 'gold';
