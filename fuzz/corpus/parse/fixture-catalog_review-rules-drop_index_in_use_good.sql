-- owner: @orders-team
-- expect: nothing reads orders by note
-- rollback: CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);
-- No query ever used orders_note_idx on the copy (idx_scan = 0).
DROP INDEX CONCURRENTLY orders_note_idx;
