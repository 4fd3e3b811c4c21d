-- +goose Up
-- The state of each roster sync (the users and groups it created or
-- adopted, as JSON), kept beside its runs so that a lost state file does
-- not lose what the sync owns.
CREATE TABLE sync_state (
    config TEXT PRIMARY KEY,
    saved  TEXT NOT NULL,
    state  TEXT NOT NULL
);

-- +goose Down
DROP TABLE sync_state;
