-- owner: @hr-platform
CREATE SCHEMA IF NOT EXISTS hr;
