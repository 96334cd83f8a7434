-- owner: @catalog-team
-- expect: search by name uses products_name_idx
-- +goose Up
CREATE INDEX products_name_idx ON products (name);

-- +goose Down
DROP INDEX products_name_idx;
