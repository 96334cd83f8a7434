-- owner: @content-team
DROP INDEX CONCURRENTLY posts_legacy_idx;
