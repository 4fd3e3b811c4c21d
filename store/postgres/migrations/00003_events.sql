-- +goose Up
-- The events of the changes made to each directory (a transactional
-- outbox): written in the transaction of the change they record. seq
-- orders a directory's events; event_seq is the last one given. A change
-- increments it as the last thing before it commits, which locks the
-- directory's row until then: the writers of one directory take their
-- seqs and commit in the same order, so a reader that has seen seq n never
-- later finds a smaller one committed. There is no foreign key to
-- directories: a deleted directory's events (the last one
-- directory.deleted) stay until they expire. data, previous and context
-- are JSON texts, kept as they were written (text, not jsonb: they are
-- only ever read back whole).
ALTER TABLE directories ADD COLUMN event_seq bigint NOT NULL DEFAULT 0;
CREATE TABLE events (
    directory_id text COLLATE "C" NOT NULL,
    seq          bigint NOT NULL,
    id           text COLLATE "C" NOT NULL,
    type         text COLLATE "C" NOT NULL,
    resource_id  text COLLATE "C",
    time         timestamptz NOT NULL,
    data         text NOT NULL,
    previous     text,
    context      text NOT NULL,
    PRIMARY KEY (directory_id, seq)
);
-- The console lists a resource's history. (Retention needs no index of
-- its own: a directory's events are in time order by seq.)
CREATE INDEX events_resource ON events (directory_id, resource_id, seq);

-- +goose Down
DROP TABLE events;
ALTER TABLE directories DROP COLUMN event_seq;
