-- owner: @payments-team
CREATE TABLE refunds (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id bigint NOT NULL,
    amount_cents bigint NOT NULL
);
CREATE INDEX refunds_payment_id_idx ON refunds (payment_id);
