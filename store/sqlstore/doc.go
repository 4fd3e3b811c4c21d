// Package sqlstore implements store.Store once for every SQL database:
// the create, replace, patch and delete flow, the computed attributes (a
// group's members, a user's groups), paging and cursors, tokens, OAuth
// clients, signing keys and the sync history. What differs between
// databases is a Dialect: how to run a statement and a transaction, how
// its errors read, and the SQL text of the few statements that cannot be
// written once (JSON functions, lists of ids, row locks).
//
// store/sqlite and store/postgres each provide a Dialect and wrap a Store
// around it; store/storetest holds both to the same behaviour. Statements
// that are the same for both are written here once, with $1-style
// placeholders, which SQLite (through modernc.org/sqlite) binds by number
// as PostgreSQL does.
//
// With WithSecretKey a Store keeps the keys that sign access tokens
// encrypted (AES-256-GCM), so that reading the database is not enough to
// mint tokens; SealSigningKeys encrypts those an older store kept in clear.
//
//	st := sqlstore.New(dialect, sqlstore.WithSecretKey(key))
//	dir, err := st.CreateDirectory(ctx, "acme")
package sqlstore
