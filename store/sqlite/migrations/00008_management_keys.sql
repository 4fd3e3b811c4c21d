-- +goose Up
-- The keys of the management API (/api/v1), apart from the directories'
-- SCIM tokens: a key in one table never authenticates where the other is
-- asked for. As for tokens, only a SHA-256 hash of each is kept.
CREATE TABLE management_keys (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE,
    hash      TEXT NOT NULL UNIQUE,
    created   TEXT NOT NULL,
    expires   TEXT,
    last_used TEXT,
    revoked   INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE management_keys;
