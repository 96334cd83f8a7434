drop PROCEDURE if EXISTS uc_dolphin_T_t_ds_worker_group_A_other_params_json;
CREATE PROCEDURE uc_dolphin_T_t_ds_worker_group_A_other_params_json()
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.COLUMNS
        WHERE TABLE_NAME='t_ds_worker_group' AND COLUMN_NAME='other_params_json')
    THEN
        ALTER TABLE t_ds_worker_group ADD other_params_json text;
    END IF;
END;
call uc_dolphin_T_t_ds_worker_group_A_other_params_json();
