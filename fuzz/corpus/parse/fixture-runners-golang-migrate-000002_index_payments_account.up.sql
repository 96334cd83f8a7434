-- owner: @payments-team
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS payments_account_id_idx ON payments (account_id);
