-- +goose Up
-- The web console's admins, their sessions and the SCIM request log.
-- password is the admin's encoded argon2id hash (never the password);
-- setup_hash the SHA-256 of the one-time link that sets it, and sessions
-- are kept by the SHA-256 of their cookie, so that a copy of the database
-- logs nobody in.
CREATE TABLE admins (
    id            text COLLATE "C" PRIMARY KEY,
    name          text COLLATE "C" NOT NULL UNIQUE,
    password      text NOT NULL DEFAULT '',
    setup_hash    text COLLATE "C" UNIQUE,
    setup_expires timestamptz,
    created       timestamptz NOT NULL
);
CREATE TABLE admin_sessions (
    hash     text COLLATE "C" PRIMARY KEY,
    admin_id text COLLATE "C" NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    expires  timestamptz NOT NULL
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);
-- The SCIM request log, in segments: each write of the log (every 100 ms
-- or so) stores one row per directory holding that directory's requests
-- as a JSON array, so that a request costs the SCIM API an append to a
-- queue and a share of one insert, not an insert and its index entries
-- of its own. directory_id is '' for requests that did not authenticate;
-- resources lists the ids of the users and groups the requests were about,
-- one per line, for finding a resource's requests; first_time and
-- last_time bound the requests' times (retention deletes whole segments).
CREATE TABLE request_segments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    directory_id text COLLATE "C" NOT NULL,
    first_time   timestamptz NOT NULL,
    last_time    timestamptz NOT NULL,
    resources    text COLLATE "C" NOT NULL,
    requests     text NOT NULL
);
CREATE INDEX request_segments_directory ON request_segments (directory_id, id);

-- +goose Down
DROP TABLE request_segments;
DROP TABLE admin_sessions;
DROP TABLE admins;
