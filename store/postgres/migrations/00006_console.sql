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
-- One row per SCIM request, written in batches off the request path and
-- pruned by time. directory_id is '' for a request that did not
-- authenticate; duration is in microseconds.
CREATE TABLE requests (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time          timestamptz NOT NULL,
    directory_id  text COLLATE "C" NOT NULL,
    method        text COLLATE "C" NOT NULL,
    path          text NOT NULL,
    status        integer NOT NULL,
    duration      bigint NOT NULL,
    scim_type     text NOT NULL,
    detail        text NOT NULL,
    token         text NOT NULL,
    resource_id   text COLLATE "C" NOT NULL,
    request_id    text NOT NULL,
    request_body  text NOT NULL,
    response_body text NOT NULL
);
CREATE INDEX requests_directory ON requests (directory_id, id);
CREATE INDEX requests_resource ON requests (directory_id, resource_id, id);
CREATE INDEX requests_time ON requests (time);

-- +goose Down
DROP TABLE requests;
DROP TABLE admin_sessions;
DROP TABLE admins;
