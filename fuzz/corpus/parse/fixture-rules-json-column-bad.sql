-- owner: @integrations-team
-- expect: webhook payloads are stored for replay
-- rollback: DROP TABLE webhook_deliveries;
CREATE TABLE webhook_deliveries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload json NOT NULL
);
