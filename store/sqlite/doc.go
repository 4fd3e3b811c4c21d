// Package sqlite is the embedded store of Roster: SQLite through
// modernc.org/sqlite (pure Go, no cgo), in WAL mode, with embedded
// migrations.
//
//	st, err := sqlite.Open(ctx, "roster.db")
//	if err != nil { ... }
//	defer st.Close()
//
// The store is store/sqlstore's over SQLite's dialect: reads on a pool of
// connections, writes queued on one, times as fixed-width text, lists as
// JSON arrays read with json_each. Users and groups share one table whose
// indexed columns hold what lookups need (the folded userName or
// displayName, externalId, timestamps; email keys in a side table kept by
// triggers) and a JSON column the rest; SCIM filters become SQL over both
// (see where). Group memberships have their own table.
package sqlite
