-- owner: @platform
-- expect: the replacement exists next to invoice_number_seq
-- rollback: irreversible
SET lock_timeout = '2s';
CREATE SEQUENCE invoice_number_v2_seq START WITH 100000;
