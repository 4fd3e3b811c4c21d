-- +goose Up
-- Bearer tokens. Only a SHA-256 hash of each token is kept: tokens are
-- 256-bit random values, so a fast hash is enough and lookups are by hash.
CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    directory_id TEXT NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created      TEXT NOT NULL,
    expires      TEXT,
    last_used    TEXT,
    revoked      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tokens_directory ON tokens (directory_id);

-- +goose Down
DROP TABLE tokens;
