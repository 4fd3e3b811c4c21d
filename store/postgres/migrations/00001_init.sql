-- +goose Up
-- Text columns compare in byte order (COLLATE "C"), which is the order of
-- Go's strings.Compare and of SQLite, whatever the database's locale; it
-- also lets the btree indexes answer prefix (sw) lookups.

-- A directory is a tenant: every other row belongs to exactly one.
CREATE TABLE directories (
    seq      bigint GENERATED ALWAYS AS IDENTITY,
    id       text COLLATE "C" PRIMARY KEY,
    name     text COLLATE "C" NOT NULL,
    name_key text COLLATE "C" NOT NULL UNIQUE, -- the name in lower case
    created  timestamptz NOT NULL
);

-- Users and groups. seq gives a stable order for paging and cursors.
-- name is the userName of a user or the displayName of a group; name_key
-- is its strings.ToLower and fold_key its case-folding key (computed in Go;
-- two names are equal under strings.EqualFold exactly when their fold_keys
-- are), unique per directory and type. email_keys are the fold keys of a
-- user's emails.value, so that a lookup by email is an index scan. attrs
-- holds every other attribute in the form of package scim/resource,
-- without id, meta, members and groups. Times have microseconds.
CREATE TABLE resources (
    seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    directory_id  text COLLATE "C" NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    type          text COLLATE "C" NOT NULL,
    id            text COLLATE "C" NOT NULL,
    name          text COLLATE "C" NOT NULL,
    name_key      text COLLATE "C" NOT NULL,
    fold_key      text COLLATE "C" NOT NULL,
    external_id   text COLLATE "C",
    email_keys    text[] COLLATE "C",
    created       timestamptz NOT NULL,
    last_modified timestamptz NOT NULL,
    version       bigint NOT NULL,
    attrs         jsonb NOT NULL,
    UNIQUE (directory_id, id)
);
CREATE UNIQUE INDEX resources_fold_key ON resources (directory_id, type, fold_key);
CREATE INDEX resources_name_key ON resources (directory_id, type, name_key);
CREATE INDEX resources_external_id ON resources (directory_id, type, external_id);
CREATE INDEX resources_last_modified ON resources (directory_id, type, last_modified);
CREATE INDEX resources_seq ON resources (directory_id, type, seq);
CREATE INDEX resources_email_keys ON resources USING gin (email_keys);

-- Group memberships, one row each, so that adding or removing a member
-- costs the same whatever the size of the group. member_type is User or
-- Group (nested groups).
CREATE TABLE members (
    directory_id text COLLATE "C" NOT NULL,
    group_id     text COLLATE "C" NOT NULL,
    member_id    text COLLATE "C" NOT NULL,
    member_type  text COLLATE "C" NOT NULL,
    PRIMARY KEY (directory_id, group_id, member_id),
    FOREIGN KEY (directory_id, group_id) REFERENCES resources (directory_id, id) ON DELETE CASCADE
);
CREATE INDEX members_member ON members (directory_id, member_id);

-- Bearer tokens. Only a SHA-256 hash of each token is kept: tokens are
-- 256-bit random values, so a fast hash is enough and lookups are by hash.
CREATE TABLE tokens (
    id           text COLLATE "C" PRIMARY KEY,
    directory_id text COLLATE "C" NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    name         text COLLATE "C" NOT NULL,
    hash         text COLLATE "C" NOT NULL UNIQUE,
    created      timestamptz NOT NULL,
    expires      timestamptz,
    last_used    timestamptz,
    revoked      boolean NOT NULL DEFAULT false
);
CREATE INDEX tokens_directory ON tokens (directory_id);

-- OAuth 2.0 clients (client credentials grant): a client belongs to one
-- directory; only a hash of its secret is kept.
CREATE TABLE oauth_clients (
    id           text COLLATE "C" PRIMARY KEY,
    directory_id text COLLATE "C" NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
    name         text COLLATE "C" NOT NULL,
    secret_hash  text COLLATE "C" NOT NULL,
    created      timestamptz NOT NULL,
    revoked      boolean NOT NULL DEFAULT false
);

-- Keys that sign access tokens. The newest signs; older ones still verify
-- the tokens they signed until those expire. Kept in the database so that
-- replicas share them.
CREATE TABLE signing_keys (
    kid     text COLLATE "C" PRIMARY KEY,
    key     bytea NOT NULL,
    created timestamptz NOT NULL
);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE oauth_clients;
DROP TABLE tokens;
DROP TABLE members;
DROP TABLE resources;
DROP TABLE directories;
