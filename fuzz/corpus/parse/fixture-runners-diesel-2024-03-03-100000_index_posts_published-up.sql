-- owner: @content-team
CREATE INDEX CONCURRENTLY posts_published_at_idx ON posts (published_at);
COMMENT ON INDEX posts_published_at_idx IS 'feed ordering';
