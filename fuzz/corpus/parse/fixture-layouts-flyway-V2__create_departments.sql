-- owner: @hr-platform
CREATE TABLE departments (
    code text PRIMARY KEY,
    name text NOT NULL
);
INSERT INTO departments (code, name) SELECT DISTINCT department, department FROM employees WHERE department IS NOT NULL;
