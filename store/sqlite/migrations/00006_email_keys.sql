-- +goose Up
-- The fold keys (store.FoldKey) of a user's emails.value, as a JSON array,
-- NULL without emails; and, kept from it by triggers, one row per key, so
-- that emails[value eq "x"] and emails.value eq "x" look the key up in an
-- index instead of reading every user's emails (PostgreSQL has a GIN index
-- on its text[] column for the same). The primary key leads with the key:
-- the filter finds the few resources with it, whatever the directory, and
-- the query keeps those of its own. The triggers remove a resource's rows
-- by its old keys, through the primary key, so the table needs no second
-- index (nor a foreign key, which would want one): a create writes one
-- B-tree more, not three. A row left behind (a resource deleted outside
-- the store) only names a candidate the filter then rejects, as it tests
-- the emails themselves too.
ALTER TABLE resources ADD COLUMN email_keys TEXT;
CREATE TABLE resource_emails (
    email_key    TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    PRIMARY KEY (email_key, directory_id, resource_id)
) WITHOUT ROWID;

-- +goose StatementBegin
CREATE TRIGGER resources_email_keys_insert AFTER INSERT ON resources WHEN new.email_keys IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO resource_emails (email_key, directory_id, resource_id)
        SELECT value, new.directory_id, new.id FROM json_each(new.email_keys);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER resources_email_keys_update AFTER UPDATE OF email_keys ON resources
    WHEN new.email_keys IS NOT old.email_keys
BEGIN
    DELETE FROM resource_emails WHERE email_key IN (SELECT value FROM json_each(old.email_keys))
        AND directory_id = old.directory_id AND resource_id = old.id;
    INSERT OR IGNORE INTO resource_emails (email_key, directory_id, resource_id)
        SELECT value, new.directory_id, new.id FROM json_each(new.email_keys);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER resources_email_keys_delete AFTER DELETE ON resources WHEN old.email_keys IS NOT NULL
BEGIN
    DELETE FROM resource_emails WHERE email_key IN (SELECT value FROM json_each(old.email_keys))
        AND directory_id = old.directory_id AND resource_id = old.id;
END;
-- +goose StatementEnd

-- Existing users: scim_fold is store.FoldKey, registered by the store.
UPDATE resources SET email_keys = (
    SELECT NULLIF(json_group_array(scim_fold(json_extract(e.value, '$.value'))), '[]')
    FROM json_each(resources.attrs, '$.emails') e
    WHERE e.type = 'object' AND json_type(e.value, '$.value') = 'text')
WHERE json_type(attrs, '$.emails') = 'array';

-- +goose Down
DROP TRIGGER resources_email_keys_delete;
DROP TRIGGER resources_email_keys_update;
DROP TRIGGER resources_email_keys_insert;
DROP TABLE resource_emails;
ALTER TABLE resources DROP COLUMN email_keys;
