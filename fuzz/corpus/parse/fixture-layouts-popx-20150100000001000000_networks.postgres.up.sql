-- owner: @identity-team
CREATE TABLE networks (
    id UUID NOT NULL PRIMARY KEY,
    created_at timestamp NOT NULL,
    updated_at timestamp NOT NULL
);
