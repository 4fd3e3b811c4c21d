-- +goose Up
-- The events of the changes made to each directory (a transactional
-- outbox): written in the transaction of the change they record. seq
-- orders a directory's events: SQLite has one writer at a time, which
-- numbers a change's events after the directory's newest (retention
-- always keeps that one), so they commit in seq order, and a change
-- writes no counter's page. (PostgreSQL counts in directories.event_seq,
-- whose row lock orders its writers.) There is no foreign key to
-- directories: a deleted directory's events (the last one
-- directory.deleted) stay until they expire. data, previous and context
-- are JSON texts, kept as they were written.
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
-- The console lists a resource's history. (Retention needs no index of
-- its own: a directory's events are in time order by seq.)
CREATE INDEX events_resource ON events (directory_id, resource_id, seq);

-- +goose Down
DROP TABLE events;
