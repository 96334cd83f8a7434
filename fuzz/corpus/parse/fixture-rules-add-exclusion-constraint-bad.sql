-- owner: @scheduling-team
-- expect: no two bookings of a room overlap
-- rollback: ALTER TABLE room_bookings DROP CONSTRAINT IF EXISTS room_bookings_no_overlap;
SET lock_timeout = '2s';
ALTER TABLE room_bookings
    ADD CONSTRAINT room_bookings_no_overlap
    EXCLUDE USING gist (room_id WITH =, during WITH &&);
