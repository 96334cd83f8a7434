-- owner: @platform-team
-- rollback: DROP TABLE feature_flags;
CREATE TABLE feature_flags (
    name text PRIMARY KEY,
    enabled boolean NOT NULL DEFAULT false
);
