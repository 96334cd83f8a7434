-- owner: @orders-team
-- expect: order_events.id is an identity column
-- rollback: DROP TABLE order_events;
CREATE TABLE order_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL,
    kind text NOT NULL
);
