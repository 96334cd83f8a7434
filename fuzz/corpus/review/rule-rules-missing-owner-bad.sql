-- expect: table feature_flags exists and is empty
-- rollback: DROP TABLE feature_flags;
CREATE TABLE feature_flags (
    name text PRIMARY KEY,
    enabled boolean NOT NULL DEFAULT false
);
