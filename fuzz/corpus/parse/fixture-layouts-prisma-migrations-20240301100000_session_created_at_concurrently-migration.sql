-- owner: @analytics
CREATE INDEX CONCURRENTLY "session_created_at_idx" ON "session"("session_id");
