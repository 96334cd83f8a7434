DROP TABLE IF EXISTS authentication_logs;
