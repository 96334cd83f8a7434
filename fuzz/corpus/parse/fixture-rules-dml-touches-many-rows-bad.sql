-- owner: @billing-team
-- expect: every legacy subscription moves to the basic plan
-- rollback: irreversible
-- 7,000 rows change in one transaction, each locked until it commits.
SET lock_timeout = '2s';
UPDATE subscriptions SET plan = 'basic' WHERE plan = 'legacy';
