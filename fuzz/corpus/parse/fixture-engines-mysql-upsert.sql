INSERT INTO settings (name, value) VALUES ('theme', 'dark')
ON DUPLICATE KEY UPDATE value = VALUES(value);
INSERT IGNORE INTO flags (name) VALUES ('beta');
