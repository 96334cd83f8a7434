CREATE TABLE history_immediate_tasks(
  shard_id INTEGER NOT NULL,
  task_id BIGINT NOT NULL,
  PRIMARY KEY (shard_id, task_id)
);
