-- +goose Up
-- The keys of the management API (/api/v1), apart from the directories'
-- SCIM tokens: a key in one table never authenticates where the other is
-- asked for. As for tokens, only a SHA-256 hash of each is kept.
CREATE TABLE management_keys (
    id        text COLLATE "C" PRIMARY KEY,
    name      text COLLATE "C" NOT NULL UNIQUE,
    hash      text COLLATE "C" NOT NULL UNIQUE,
    created   timestamptz NOT NULL,
    expires   timestamptz,
    last_used timestamptz,
    revoked   boolean NOT NULL DEFAULT false
);

-- +goose Down
DROP TABLE management_keys;
