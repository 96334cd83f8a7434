RENAME TABLE old_sessions TO sessions;
DROP INDEX idx_sessions_user ON sessions;
