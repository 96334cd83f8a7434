CREATE INDEX CONCURRENTLY transfers_status_idx ON transfers (status);
