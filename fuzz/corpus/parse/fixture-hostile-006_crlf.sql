-- Windows line endings.
SELECT 1;

  CREATE INDEX idx_crlf ON orders (g);
