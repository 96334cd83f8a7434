CREATE TABLE project (project_id SERIAL PRIMARY KEY NOT NULL, name varchar (255) NOT NULL);
