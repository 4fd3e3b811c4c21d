-- +goose Up
-- A directory is a tenant: every other row belongs to exactly one.
CREATE TABLE directories (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE, -- the name folded to lower case
    created TEXT NOT NULL
);

-- Users and groups. seq gives a stable order for paging and cursors.
-- name is the userName of a user or the displayName of a group; name_key
-- is it folded to lower case (in Go, Unicode-aware), unique per directory
-- and type. attrs holds every other attribute as JSON in the form of
-- package scim/resource, without id, meta, members and groups.
-- Times are UTC in a fixed-width format so that text order is time order.
CREATE TABLE resources (
    seq           INTEGER PRIMARY KEY,
    directory_id  TEXT NOT NULL REFERENCES directories(id) ON DELETE CASCADE,
    type          TEXT NOT NULL,
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL,
    external_id   TEXT,
    created       TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    version       INTEGER NOT NULL,
    attrs         TEXT NOT NULL,
    UNIQUE (directory_id, id)
);
CREATE UNIQUE INDEX resources_name ON resources (directory_id, type, name_key);
CREATE INDEX resources_external_id ON resources (directory_id, type, external_id);
CREATE INDEX resources_last_modified ON resources (directory_id, type, last_modified);
CREATE INDEX resources_seq ON resources (directory_id, type, seq);

-- Group memberships, one row each, so that adding or removing a member
-- costs the same whatever the size of the group. member_type is User or
-- Group (nested groups).
CREATE TABLE members (
    directory_id TEXT NOT NULL,
    group_id     TEXT NOT NULL,
    member_id    TEXT NOT NULL,
    member_type  TEXT NOT NULL,
    PRIMARY KEY (directory_id, group_id, member_id),
    FOREIGN KEY (directory_id, group_id) REFERENCES resources (directory_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX members_member ON members (directory_id, member_id);

-- +goose Down
DROP TABLE members;
DROP TABLE resources;
DROP TABLE directories;
