-- owner: @platform
-- expect: invoice_number_seq is gone
-- rollback: irreversible
SET lock_timeout = '2s';
DROP SEQUENCE invoice_number_seq;
