-- owner: @auth-team
CREATE INDEX authentication_logs_username_idx ON authentication_logs (username);
