-- +goose Up
-- owner: @catalog-team
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION products_touch() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER products_touch BEFORE UPDATE ON products
    FOR EACH ROW EXECUTE FUNCTION products_touch();

-- +goose Down
DROP TRIGGER products_touch ON products;
DROP FUNCTION products_touch();
