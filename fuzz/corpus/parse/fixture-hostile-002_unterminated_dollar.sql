-- A DO block whose closing $$ is missing swallows the rest of the file.
CREATE INDEX idx_dollar_before ON orders (b);
DO $$
BEGIN
  UPDATE orders SET b = 1;
END;
CREATE INDEX idx_dollar_swallowed ON orders (c);
