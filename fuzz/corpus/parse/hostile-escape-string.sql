SELECT E'it\'s; not the end', 'plain '' quote; still';
CREATE INDEX i ON t (c);
