-- +goose Up
-- The events of the changes made to each directory (a transactional
-- outbox): written in the transaction of the change they record. seq
-- orders a directory's events; event_seq is the last one given, which a
-- change increments when it writes its events. SQLite has one writer at a
-- time, so events commit in seq order. There is no foreign key to
-- directories: a deleted directory's events (the last one
-- directory.deleted) stay until they expire. data, previous and context
-- are JSON texts, kept as they were written.
ALTER TABLE directories ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE events (
    directory_id TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    id           TEXT NOT NULL,
    type         TEXT NOT NULL,
    resource_id  TEXT,
    time         TEXT NOT NULL,
    data         TEXT NOT NULL,
    previous     TEXT,
    context      TEXT NOT NULL,
    PRIMARY KEY (directory_id, seq)
) WITHOUT ROWID;
-- Retention deletes the oldest first; the console lists a resource's
-- history.
CREATE INDEX events_time ON events (time);
CREATE INDEX events_resource ON events (directory_id, resource_id, seq);

-- +goose Down
DROP TABLE events;
ALTER TABLE directories DROP COLUMN event_seq;
