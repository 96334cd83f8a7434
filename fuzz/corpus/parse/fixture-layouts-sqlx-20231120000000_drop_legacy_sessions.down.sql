-- The up file was squashed into the initial schema; this orphan is ignored.
CREATE TABLE legacy_sessions (id bigint PRIMARY KEY);
