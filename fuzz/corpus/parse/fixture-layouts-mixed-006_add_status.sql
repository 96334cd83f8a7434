ALTER TABLE accounts ADD COLUMN status text;
