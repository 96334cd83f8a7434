-- +goose Up
-- owner: @platform-team
-- expect: table feature_flags exists and is empty
-- +goose StatementBegin
CREATE TABLE feature_flags (
    name text PRIMARY KEY,
    enabled boolean NOT NULL DEFAULT false
);
-- +goose StatementEnd

-- +goose Down
DROP TABLE feature_flags;
