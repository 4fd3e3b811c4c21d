-- +goose Up
-- The history of roster sync runs: counts and every change with its
-- outcome, as JSON.
CREATE TABLE sync_runs (
    id      TEXT PRIMARY KEY,
    config  TEXT NOT NULL,
    started TEXT NOT NULL,
    ended   TEXT NOT NULL,
    status  TEXT NOT NULL,
    error   TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX sync_runs_config ON sync_runs (config, started);
CREATE INDEX sync_runs_started ON sync_runs (started);

-- +goose Down
DROP TABLE sync_runs;
