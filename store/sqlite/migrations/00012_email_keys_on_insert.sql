-- +goose Up
-- An insert records its email keys in resource_emails itself
-- (dialect.IndexEmails) instead of through this trigger: with a trigger,
-- SQLite journals every page an INSERT changes, so as to undo it alone
-- should it fail, and that was a tenth of a create. The triggers on
-- update and delete stay.
DROP TRIGGER resources_email_keys_insert;

-- +goose Down
-- +goose StatementBegin
CREATE TRIGGER resources_email_keys_insert AFTER INSERT ON resources WHEN new.email_keys IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO resource_emails (email_key, directory_id, resource_id)
        SELECT value, new.directory_id, new.id FROM json_each(new.email_keys);
END;
-- +goose StatementEnd
