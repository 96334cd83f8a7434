-- owner: @hr
CREATE OR REPLACE VIEW employee_directory AS
    SELECT id, name, department FROM employees ORDER BY name;
