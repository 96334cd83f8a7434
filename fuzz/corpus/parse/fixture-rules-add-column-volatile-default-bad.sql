-- owner: @payments-team
-- expect: every order gets a public_id
-- rollback: ALTER TABLE orders DROP COLUMN IF EXISTS public_id;
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
