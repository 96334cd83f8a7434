UPDATE `t_ds_version` SET `version` = '3.0.0';
