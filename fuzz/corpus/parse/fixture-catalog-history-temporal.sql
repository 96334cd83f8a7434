-- The temporal SQL schema tool's version tables (PostgreSQL).
CREATE TABLE schema_version (
    version_partition INT NOT NULL,
    db_name VARCHAR(255) NOT NULL,
    creation_time TIMESTAMP,
    curr_version VARCHAR(64),
    min_compatible_version VARCHAR(64),
    PRIMARY KEY (version_partition, db_name)
);
CREATE TABLE schema_update_history (
    version_partition INT NOT NULL,
    year int NOT NULL,
    month int NOT NULL,
    update_time TIMESTAMP NOT NULL,
    description VARCHAR(255),
    manifest_md5 VARCHAR(64),
    new_version VARCHAR(64),
    old_version VARCHAR(64),
    PRIMARY KEY (version_partition, year, month, update_time)
);
