-- owner: @hr-platform
-- flyway:executeInTransaction=false
CREATE INDEX CONCURRENTLY departments_name_idx ON departments (name);
