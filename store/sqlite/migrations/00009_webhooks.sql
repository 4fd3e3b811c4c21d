-- +goose Up
-- Webhooks: the endpoints events are delivered to. directory_id NULL
-- means every directory (no foreign key: a webhook of a deleted
-- directory delivers its last events, directory.deleted among them);
-- types is a JSON array of event types ('[]' for all). secret and
-- previous_secret are the signing keys' bytes, sealed with the store's
-- secret key when it has one (as signing_keys.key).
CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    directory_id    TEXT,
    types           TEXT NOT NULL,
    enabled         INTEGER NOT NULL,
    disabled        TEXT NOT NULL DEFAULT '',
    created         TEXT NOT NULL,
    secret          BLOB NOT NULL,
    previous_secret BLOB,
    previous_until  TEXT
);
-- Where each webhook's delivery of each directory's events stands: seq is
-- the last event acknowledged or dead-lettered, attempts the tries of the
-- next, next_attempt when it is due; lease and lease_until the claim of
-- the worker delivering them. No foreign key to directories: a deleted
-- directory's last events are still delivered.
CREATE TABLE webhook_cursors (
    webhook_id   TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    directory_id TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT NOT NULL,
    lease        TEXT,
    lease_until  TEXT,
    PRIMARY KEY (webhook_id, directory_id)
) WITHOUT ROWID;
-- Every attempt to deliver an event, for the delivery log.
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY,
    webhook_id   TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    directory_id TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    time         TEXT NOT NULL,
    status       INTEGER NOT NULL,
    duration_us  INTEGER NOT NULL,
    error        TEXT NOT NULL,
    manual       INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts (webhook_id, id);
CREATE INDEX webhook_attempts_time ON webhook_attempts (time);
-- The events a webhook gave up on after its last try.
CREATE TABLE webhook_dead_letters (
    webhook_id   TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    directory_id TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    event_id     TEXT NOT NULL,
    time         TEXT NOT NULL,
    status       INTEGER NOT NULL,
    error        TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    PRIMARY KEY (webhook_id, directory_id, seq)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE webhook_dead_letters;
DROP TABLE webhook_attempts;
DROP TABLE webhook_cursors;
DROP TABLE webhooks;
