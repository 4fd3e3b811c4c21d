-- +goose Up
-- Webhooks: the endpoints events are delivered to. directory_id NULL
-- means every directory (no foreign key: a webhook of a deleted
-- directory delivers its last events, directory.deleted among them);
-- types is a JSON array of event types ('[]' for all). secret and
-- previous_secret are the signing keys' bytes, sealed with the store's
-- secret key (as signing_keys.key).
CREATE TABLE webhooks (
    id              text COLLATE "C" PRIMARY KEY,
    url             text NOT NULL,
    directory_id    text COLLATE "C",
    types           text NOT NULL,
    enabled         boolean NOT NULL,
    disabled        text NOT NULL DEFAULT '',
    created         timestamptz NOT NULL,
    secret          bytea NOT NULL,
    previous_secret bytea,
    previous_until  timestamptz
);
-- Where each webhook's delivery of each directory's events stands: seq is
-- the last event acknowledged or dead-lettered, attempts the tries of the
-- next, next_attempt when it is due; lease and lease_until the claim of
-- the worker delivering them (claims take rows FOR UPDATE SKIP LOCKED).
-- No foreign key to directories: a deleted directory's last events are
-- still delivered.
CREATE TABLE webhook_cursors (
    webhook_id   text COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    directory_id text COLLATE "C" NOT NULL,
    seq          bigint NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    next_attempt timestamptz NOT NULL,
    lease        text,
    lease_until  timestamptz,
    PRIMARY KEY (webhook_id, directory_id)
);
-- Every attempt to deliver an event, for the delivery log.
CREATE TABLE webhook_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id   text COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    directory_id text COLLATE "C" NOT NULL,
    event_id     text COLLATE "C" NOT NULL,
    seq          bigint NOT NULL,
    attempt      integer NOT NULL,
    time         timestamptz NOT NULL,
    status       integer NOT NULL,
    duration_us  bigint NOT NULL,
    error        text NOT NULL,
    manual       boolean NOT NULL
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts (webhook_id, id);
CREATE INDEX webhook_attempts_time ON webhook_attempts (time);
-- The events a webhook gave up on after its last try.
CREATE TABLE webhook_dead_letters (
    webhook_id   text COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    directory_id text COLLATE "C" NOT NULL,
    seq          bigint NOT NULL,
    event_id     text COLLATE "C" NOT NULL,
    time         timestamptz NOT NULL,
    status       integer NOT NULL,
    error        text NOT NULL,
    attempts     integer NOT NULL,
    PRIMARY KEY (webhook_id, directory_id, seq)
);

-- +goose Down
DROP TABLE webhook_dead_letters;
DROP TABLE webhook_attempts;
DROP TABLE webhook_cursors;
DROP TABLE webhooks;
