-- The copy that times-out-on-copy's examples run on: an event log large enough that indexing
-- an expression over every payload outlasts the review's statement_timeout, and a small
-- lookup table that indexes in a moment.
-- statement_timeout_ms: 40
CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL,
    payload text NOT NULL
);

INSERT INTO events (kind, payload)
SELECT (ARRAY['signup', 'login', 'purchase'])[1 + i % 3], repeat(md5(i::text), 8)
FROM generate_series(1, 300000) AS i;

CREATE TABLE event_kinds (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL
);

INSERT INTO event_kinds (name) VALUES ('signup'), ('login'), ('purchase');

ANALYZE events;
ANALYZE event_kinds;
