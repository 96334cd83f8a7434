-- no-transaction
-- owner: @analytics-team
-- expect: duration < 5s
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS events_payload_digest_idx;
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY events_payload_digest_idx ON events (md5(payload));
