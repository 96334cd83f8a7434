ALTER TABLE project ADD COLUMN deleted boolean DEFAULT false NOT NULL;
