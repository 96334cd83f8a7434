-- The copy that fails-on-copy's examples run on: accounts whose emails were never unique in
-- practice (two rows differ only in case, one is an exact repeat), and an external id that
-- the billing system does keep unique.
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    billing_ref text NOT NULL
);

INSERT INTO accounts (email, billing_ref)
SELECT 'user' || i || '@example.com', 'cus_' || lpad(i::text, 8, '0')
FROM generate_series(1, 2000) AS i;

-- Real data: a signup retried after a timeout.
INSERT INTO accounts (email, billing_ref) VALUES ('user42@example.com', 'cus_99990001');

ANALYZE accounts;
