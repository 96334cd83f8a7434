-- thresholds: small_table_rows = 1000, small_table_bytes = 65536
-- The copy that table-rewrite's examples run on: 20,000 invoices whose amount is a float,
-- above the lowered small-table threshold.
CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    amount double precision NOT NULL
);
CREATE INDEX invoices_customer_id_idx ON invoices (customer_id);

INSERT INTO invoices (customer_id, amount)
SELECT i % 500, (i % 1000) * 1.25
FROM generate_series(1, 20000) AS i;

ANALYZE invoices;

-- A helper an earlier migration created: the copy has it, the migration under review only
-- calls it, so no rule can read what it does from the migration's SQL.
CREATE FUNCTION normalize_invoice_amounts() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    IF (SELECT data_type FROM information_schema.columns
        WHERE table_name = 'invoices' AND column_name = 'amount') = 'double precision' THEN
        ALTER TABLE invoices ALTER COLUMN amount TYPE numeric(12,2);
    END IF;
END
$fn$;
