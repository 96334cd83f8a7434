-- The copy that not-executed-on-copy's examples run on: accounts whose emails are unique as
-- written but not once lower-cased (a signup typed with capitals, then again without).
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (email);

INSERT INTO accounts (email)
SELECT 'user' || i || '@example.com' FROM generate_series(1, 500) AS i;
INSERT INTO accounts (email) VALUES ('Ann.Lee@Example.com'), ('ann.lee@example.com');

ANALYZE accounts;
