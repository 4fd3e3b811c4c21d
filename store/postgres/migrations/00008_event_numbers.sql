-- +goose Up
-- A change no longer numbers its events: it inserts them without a seq
-- (pos, a sequence, keeps the order they were written in), and a reader
-- numbers the committed ones before it reads (NumberEvents), one
-- directory at a time under an advisory lock, after the directory's
-- newest seq. A change that commits later is numbered later, so a reader
-- that has seen seq n never finds a smaller one afterwards, and the
-- writers of one directory no longer wait for each other's commits on
-- the directory's counter row, which the seq order used to need.
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD COLUMN pos bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE events ADD PRIMARY KEY (pos);
ALTER TABLE events ALTER COLUMN seq DROP NOT NULL;
CREATE UNIQUE INDEX events_seq ON events (directory_id, seq) WHERE seq IS NOT NULL;
CREATE INDEX events_unnumbered ON events (directory_id, pos) WHERE seq IS NULL;
ALTER TABLE directories DROP COLUMN event_seq;

-- +goose Down
UPDATE events e SET seq = n.seq
FROM (SELECT pos, COALESCE((SELECT max(x.seq) FROM events x WHERE x.directory_id = u.directory_id), 0)
        + row_number() OVER (PARTITION BY directory_id ORDER BY pos) AS seq
      FROM events u WHERE seq IS NULL) n
WHERE e.pos = n.pos;
ALTER TABLE directories ADD COLUMN event_seq bigint NOT NULL DEFAULT 0;
UPDATE directories d SET event_seq = COALESCE((SELECT max(seq) FROM events e WHERE e.directory_id = d.id), 0);
DROP INDEX events_unnumbered;
DROP INDEX events_seq;
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events DROP COLUMN pos;
ALTER TABLE events ALTER COLUMN seq SET NOT NULL;
ALTER TABLE events ADD PRIMARY KEY (directory_id, seq);
