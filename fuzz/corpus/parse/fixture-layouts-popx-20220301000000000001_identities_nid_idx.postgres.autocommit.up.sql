-- owner: @identity-team
CREATE INDEX CONCURRENTLY IF NOT EXISTS identities_nid_idx ON identities (nid);
