UPDATE t_ds_version SET version = '3.1.0';
