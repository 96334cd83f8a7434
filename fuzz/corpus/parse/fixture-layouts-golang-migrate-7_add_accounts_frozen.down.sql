ALTER TABLE accounts DROP COLUMN frozen;
