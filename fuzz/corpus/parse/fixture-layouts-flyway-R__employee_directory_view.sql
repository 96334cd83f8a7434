-- owner: @hr-platform
CREATE OR REPLACE VIEW employee_directory AS
    SELECT e.id, e.email, d.name AS department
    FROM employees e LEFT JOIN departments d ON d.code = e.department;
