-- An unrendered template.
CREATE INDEX idx_template ON {{ table }} (i);
CREATE INDEX idx_after_template ON orders (j);
