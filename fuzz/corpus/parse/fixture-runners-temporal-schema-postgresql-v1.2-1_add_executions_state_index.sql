-- owner: @temporal-persistence
-- expect: succeeds
-- rollback: DROP INDEX CONCURRENTLY IF EXISTS executions_state_idx; DROP TABLE IF EXISTS build_id_to_task_queue;
CREATE TABLE build_id_to_task_queue (
    namespace_id uuid NOT NULL,
    build_id text NOT NULL,
    task_queue_name text NOT NULL,
    PRIMARY KEY (namespace_id, build_id, task_queue_name)
);
CREATE INDEX CONCURRENTLY executions_state_idx ON executions (namespace_id, state);
ALTER TABLE executions ADD COLUMN db_record_version bigint NOT NULL DEFAULT 0;
UPDATE executions SET state = 0 WHERE state IS NULL;
