-- owner: @scheduler
ALTER TABLE t_ds_task_definition ADD COLUMN task_group_priority int DEFAULT 0;
