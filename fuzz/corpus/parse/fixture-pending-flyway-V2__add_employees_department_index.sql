-- owner: @hr
CREATE INDEX employees_department_idx ON employees (department);
