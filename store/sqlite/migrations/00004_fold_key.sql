-- +goose Up
-- The key that decides whether two names are the same: equal exactly when
-- Go's strings.EqualFold says so, which is how filters compare userName.
-- name_key (strings.ToLower) differs on a few runes (ſ and s fold together
-- but lower apart), which let "sam" and "ſam" both be created although
-- userName eq "SAM" finds both. scim_fold is registered by the store.
ALTER TABLE resources ADD COLUMN fold_key TEXT;
UPDATE resources SET fold_key = scim_fold(name);
CREATE UNIQUE INDEX resources_fold_key ON resources (directory_id, type, fold_key);

-- +goose Down
DROP INDEX resources_fold_key;
ALTER TABLE resources DROP COLUMN fold_key;
