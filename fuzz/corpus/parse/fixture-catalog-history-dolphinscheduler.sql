-- DolphinScheduler's schema version table: one row, the version reached.
CREATE TABLE t_ds_version (
  id int NOT NULL,
  version varchar(63) NOT NULL,
  PRIMARY KEY (id)
);
CREATE INDEX version_index ON t_ds_version (version);
