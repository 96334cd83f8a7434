-- owner: @ledger-team
CREATE TABLE accounts (
    id bigserial PRIMARY KEY,
    owner_name text NOT NULL,
    balance_cents bigint NOT NULL DEFAULT 0,
    currency char(3) NOT NULL
);
