ALTER TABLE transfers DROP COLUMN status;
