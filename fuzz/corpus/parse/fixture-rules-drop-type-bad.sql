-- owner: @platform
-- expect: payment_status is gone
-- rollback: irreversible
SET lock_timeout = '2s';
DROP TYPE payment_status;
