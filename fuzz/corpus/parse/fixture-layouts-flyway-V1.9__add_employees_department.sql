-- owner: @hr-platform
ALTER TABLE employees ADD COLUMN department text;
