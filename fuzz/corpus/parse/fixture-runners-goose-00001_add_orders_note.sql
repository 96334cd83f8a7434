-- owner: @orders-team
-- +goose Up
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN note text;

-- +goose Down
ALTER TABLE orders DROP COLUMN note;
