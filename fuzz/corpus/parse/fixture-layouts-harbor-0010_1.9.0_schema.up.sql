CREATE INDEX project_name_idx ON project (name);
