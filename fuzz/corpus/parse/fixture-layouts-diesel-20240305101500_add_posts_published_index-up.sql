-- owner: @content-team
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS posts_published_idx;
CREATE INDEX CONCURRENTLY posts_published_idx ON posts (published) WHERE published;
