-- owner: @identity-team
ALTER TABLE identities ADD COLUMN state VARCHAR(255) NOT NULL DEFAULT 'active';
