CREATE INDEX idx_bom ON orders (h);
