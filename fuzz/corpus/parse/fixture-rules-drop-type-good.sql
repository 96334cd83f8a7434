-- owner: @platform
-- expect: the replacement exists next to payment_status
-- rollback: irreversible
SET lock_timeout = '2s';
CREATE TYPE payment_state AS ENUM ('pending', 'paid', 'refunded');
