/* outer /* inner */ still comment; DROP TABLE t; */
CREATE INDEX i ON t (c);
