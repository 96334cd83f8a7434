-- Recreating the index takes a SHARE lock on posts for the whole build.
CREATE INDEX posts_legacy_idx ON posts (author_id, id);
