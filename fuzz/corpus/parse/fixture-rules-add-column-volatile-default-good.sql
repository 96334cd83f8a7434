-- owner: @payments-team
-- expect: new orders get a public_id; old ones are backfilled in batches by the next migration
-- rollback: ALTER TABLE orders DROP COLUMN IF EXISTS public_id;
SET lock_timeout = '2s';
-- Instant: existing rows keep NULL, only new rows call gen_random_uuid().
ALTER TABLE orders
    ADD COLUMN public_id uuid,
    ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
