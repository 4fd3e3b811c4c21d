-- +goose Up
-- The web console's admins, their sessions and the SCIM request log.
-- password is the admin's encoded argon2id hash (never the password);
-- setup_hash the SHA-256 of the one-time link that sets it, and sessions
-- are kept by the SHA-256 of their cookie, so that a copy of the database
-- logs nobody in.
CREATE TABLE admins (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    password      TEXT NOT NULL DEFAULT '',
    setup_hash    TEXT UNIQUE,
    setup_expires TEXT,
    created       TEXT NOT NULL
);
CREATE TABLE admin_sessions (
    hash     TEXT PRIMARY KEY,
    admin_id TEXT NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    expires  TEXT NOT NULL
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);
-- One row per SCIM request, written in batches off the request path and
-- pruned by time. directory_id is '' for a request that did not
-- authenticate; duration is in microseconds.
CREATE TABLE requests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    time          TEXT NOT NULL,
    directory_id  TEXT NOT NULL,
    method        TEXT NOT NULL,
    path          TEXT NOT NULL,
    status        INTEGER NOT NULL,
    duration      INTEGER NOT NULL,
    scim_type     TEXT NOT NULL,
    detail        TEXT NOT NULL,
    token         TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    request_body  TEXT NOT NULL,
    response_body TEXT NOT NULL
);
CREATE INDEX requests_directory ON requests (directory_id, id);
CREATE INDEX requests_resource ON requests (directory_id, resource_id, id);
CREATE INDEX requests_time ON requests (time);

-- +goose Down
DROP TABLE requests;
DROP TABLE admin_sessions;
DROP TABLE admins;
