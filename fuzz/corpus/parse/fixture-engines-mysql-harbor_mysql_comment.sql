CREATE TABLE artifact_trash (
  id int NOT NULL,
  media_type varchar(255) NOT NULL COMMENT 'the media type of the artifact',
  PRIMARY KEY (id)
);
