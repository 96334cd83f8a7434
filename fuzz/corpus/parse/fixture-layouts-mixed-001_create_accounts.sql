-- owner: @ledger
-- The MySQL original used `accounts` with ENGINE=InnoDB; here it is PostgreSQL.
CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text DEFAULT 'uses `backticks` and AUTO_INCREMENT');
