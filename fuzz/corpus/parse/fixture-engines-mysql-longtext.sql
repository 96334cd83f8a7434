ALTER TABLE t_ds_task_instance ADD COLUMN var_pool longtext;
