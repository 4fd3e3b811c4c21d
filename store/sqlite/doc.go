// Package sqlite is the embedded store of Roster: SQLite through
// modernc.org/sqlite (pure Go, no cgo), in WAL mode, with embedded
// migrations.
//
//	st, err := sqlite.Open(ctx, "roster.db")
//	if err != nil { ... }
//	defer st.Close()
//
// Users and groups share one table whose indexed columns hold what lookups
// need (the folded userName or displayName, externalId, timestamps) and a
// JSON column the rest; SCIM filters become SQL over both (see where).
// Group memberships have their own table.
package sqlite
