-- +goose Up
-- The history of roster sync runs: counts and every change with its
-- outcome, as JSON.
CREATE TABLE sync_runs (
    id      text COLLATE "C" PRIMARY KEY,
    config  text COLLATE "C" NOT NULL,
    started timestamptz NOT NULL,
    ended   timestamptz NOT NULL,
    status  text COLLATE "C" NOT NULL,
    error   text NOT NULL DEFAULT '',
    summary jsonb NOT NULL,
    changes jsonb NOT NULL
);
CREATE INDEX sync_runs_config ON sync_runs (config, started);
CREATE INDEX sync_runs_started ON sync_runs (started);

-- +goose Down
DROP TABLE sync_runs;
