-- A block comment that never closes swallows the rest of the file.
CREATE INDEX idx_comment_before ON orders (d);
/* outer /* nested */ still open
CREATE INDEX idx_comment_swallowed ON orders (e);
