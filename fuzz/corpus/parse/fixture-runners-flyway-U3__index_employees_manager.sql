DROP INDEX employees_manager_id_idx;
