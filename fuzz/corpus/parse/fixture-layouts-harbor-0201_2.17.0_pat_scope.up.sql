ALTER TABLE project ADD COLUMN scope text;
