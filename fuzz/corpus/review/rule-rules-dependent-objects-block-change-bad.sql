-- owner: @catalogue-team
-- expect: succeeds
-- rollback: ALTER TABLE film ALTER COLUMN rental_rate TYPE numeric(4,2);
SET lock_timeout = '2s';
-- Prices above 99.99 for the premium catalogue.
ALTER TABLE film ALTER COLUMN rental_rate TYPE numeric(6,2);
