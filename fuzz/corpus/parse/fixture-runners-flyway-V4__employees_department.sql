-- owner: @people-team
ALTER TABLE employees ADD COLUMN department text;
CREATE INDEX CONCURRENTLY employees_department_idx ON employees (department);
