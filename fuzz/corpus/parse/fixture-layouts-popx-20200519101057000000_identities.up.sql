-- owner: @identity-team
CREATE TABLE identities (
    id UUID NOT NULL PRIMARY KEY,
    nid UUID NOT NULL REFERENCES networks (id),
    traits jsonb NOT NULL
);
