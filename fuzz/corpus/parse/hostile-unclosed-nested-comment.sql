/* a /* b */ CREATE INDEX i ON t (c);
