-- A help desk's database, as the production and staging tests build it: production gets every
-- generated ticket, staging the sample the test selects with :sample (every Nth ticket) and
-- without the status index. Row values such as the subject text and the status 'escalated'
-- must never appear in a snapshot without --include-statistics.
CREATE TABLE customers (
    id integer PRIMARY KEY,
    email text NOT NULL UNIQUE
);

CREATE TABLE tickets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number integer NOT NULL,
    customer_id integer NOT NULL REFERENCES customers (id),
    status text NOT NULL DEFAULT 'open',
    subject text NOT NULL,
    opened_at timestamptz NOT NULL
);

CREATE INDEX tickets_customer_id_idx ON tickets (customer_id);
CREATE INDEX tickets_status_idx ON tickets (status);

INSERT INTO customers (id, email)
SELECT c, 'customer' || c || '@helpdesk-sample.test' FROM generate_series(0, 2999) AS c;
