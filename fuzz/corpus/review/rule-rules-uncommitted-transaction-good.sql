-- no-transaction
-- owner: @billing-team
-- expect: invoice_notes exists
-- rollback: DROP TABLE invoice_notes;
BEGIN;
CREATE TABLE invoice_notes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id bigint NOT NULL,
    body text NOT NULL
);
COMMIT;
