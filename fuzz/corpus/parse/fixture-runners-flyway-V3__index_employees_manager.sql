-- owner: @people-team
CREATE INDEX CONCURRENTLY employees_manager_id_idx ON employees (manager_id);
