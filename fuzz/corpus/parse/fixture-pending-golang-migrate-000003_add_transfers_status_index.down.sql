DROP INDEX CONCURRENTLY transfers_status_idx;
