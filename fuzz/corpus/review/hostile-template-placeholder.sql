CREATE INDEX {{ name }} ON ${schema}.t (c);
ALTER TABLE :tbl ADD COLUMN c int;
