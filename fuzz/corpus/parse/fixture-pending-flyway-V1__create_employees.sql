-- owner: @hr
CREATE TABLE employees (id bigint PRIMARY KEY, name text NOT NULL, department text);
