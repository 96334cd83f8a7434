ALTER TABLE `t_ds_task_instance` ADD INDEX `idx_code` (`task_code`);
