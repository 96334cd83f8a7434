-- owner: @integrations-team
-- expect: webhook payloads are stored for replay
-- rollback: DROP TABLE webhook_deliveries;

-- migsafe:allow-file json-column
CREATE TABLE webhook_deliveries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload jsonb NOT NULL
);
