drop PROCEDURE if EXISTS uc_dolphin_T_t_ds_task_definition_A_priority;
delimiter d//
CREATE PROCEDURE uc_dolphin_T_t_ds_task_definition_A_priority()
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.COLUMNS
        WHERE TABLE_NAME='t_ds_task_definition' AND COLUMN_NAME='task_group_priority')
    THEN
        ALTER TABLE t_ds_task_definition ADD `task_group_priority` tinyint(4) DEFAULT '0';
    END IF;
END;
d//
delimiter ;
CALL uc_dolphin_T_t_ds_task_definition_A_priority;
