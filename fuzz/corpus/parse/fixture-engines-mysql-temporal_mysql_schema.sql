CREATE TABLE namespaces(
  partition_id INT NOT NULL,
  id BINARY(16) NOT NULL,
  name VARCHAR(255) UNIQUE NOT NULL,
  data MEDIUMBLOB NOT NULL,
  PRIMARY KEY(partition_id, id)
);
