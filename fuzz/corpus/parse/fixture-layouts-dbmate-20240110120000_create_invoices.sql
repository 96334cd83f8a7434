-- owner: @billing-team
-- migrate:up
CREATE TABLE invoices (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL,
    amount_cents bigint NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE invoices;
