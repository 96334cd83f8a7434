ALTER TABLE transfers ADD COLUMN status text NOT NULL DEFAULT 'new';
