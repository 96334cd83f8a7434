-- owner: @storage
CREATE INDEX room_stats_state_room_id ON room_stats_state (room_id);
