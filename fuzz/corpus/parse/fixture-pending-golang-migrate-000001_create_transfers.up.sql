CREATE TABLE transfers (id bigint PRIMARY KEY, amount_cents bigint NOT NULL);
