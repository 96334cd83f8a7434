-- owner: @scheduler
CREATE INDEX idx_task_instance_code ON t_ds_task_instance (task_code);
