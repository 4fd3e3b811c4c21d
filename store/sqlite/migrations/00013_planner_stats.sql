-- +goose Up
-- What SQLite's query planner assumes of the tables it plans for, in
-- place of what ANALYZE would measure. Without statistics it guesses
-- that an index equality on a column or two selects ten rows, so
-- "directory_id = ? AND type = ?" looked as selective as a name lookup:
-- a filter it serves through another table (emails.value, Entra's
-- emails[type eq "work"].value, through resource_emails) lost to reading
-- every user of the directory in the order of the page, 0.35 s at a
-- million users. These figures describe a big directory (a million
-- resources, 100,000 to a directory and half of them of one type), so
-- that the plans are the ones a big directory needs from the first row
-- on, and the same in tests as in production. They are only guesses: a
-- later ANALYZE (or PRAGMA optimize) replaces them with what it measures.
-- A migration that adds an index adds its line here (DEVELOPERS.md).
ANALYZE sqlite_schema;
DELETE FROM sqlite_stat1 WHERE tbl IN ('resources', 'resource_emails', 'members', 'events');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('resources', 'sqlite_autoindex_resources_1', '1000000 100000 1'),
    ('resources', 'resources_name', '1000000 100000 50000 1'),
    ('resources', 'resources_fold_key', '1000000 100000 50000 1'),
    ('resources', 'resources_external_id', '1000000 100000 50000 2'),
    ('resources', 'resources_last_modified', '1000000 100000 50000 10'),
    ('resources', 'resources_seq', '1000000 100000 50000 1'),
    ('resource_emails', 'resource_emails', '1000000 2 1 1'),
    ('members', 'members', '1000000 100000 1000 1'),
    ('members', 'members_member', '1000000 100000 5'),
    ('events', 'events', '1000000 100000 1'),
    ('events', 'events_resource', '1000000 100000 10 1');
ANALYZE sqlite_schema;

-- +goose Down
DELETE FROM sqlite_stat1 WHERE tbl IN ('resources', 'resource_emails', 'members', 'events');
ANALYZE sqlite_schema;
