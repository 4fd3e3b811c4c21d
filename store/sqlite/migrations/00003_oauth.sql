-- +goose Up
-- OAuth 2.0 clients (client credentials grant): a client belongs to one
-- directory; only a hash of its secret is kept.
CREATE TABLE oauth_clients (
    id           TEXT PRIMARY KEY,
    directory_id TEXT NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    created      TEXT NOT NULL,
    revoked      INTEGER NOT NULL DEFAULT 0
);

-- Keys that sign access tokens. The newest signs; older ones still verify
-- the tokens they signed until those expire. Kept in the database so that
-- replicas share them.
CREATE TABLE signing_keys (
    kid     TEXT PRIMARY KEY,
    key     BLOB NOT NULL,
    created TEXT NOT NULL
);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE oauth_clients;
