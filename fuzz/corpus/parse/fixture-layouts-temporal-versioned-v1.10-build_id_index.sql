CREATE TABLE build_id_to_task_queue (
  namespace_id BYTEA NOT NULL,
  build_id VARCHAR(255) NOT NULL,
  PRIMARY KEY (namespace_id, build_id)
);
CREATE INDEX CONCURRENTLY build_id_idx ON build_id_to_task_queue (build_id);
