ALTER TABLE devices ADD COLUMN last_seen_ts bigint;
