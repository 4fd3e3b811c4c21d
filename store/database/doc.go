// Package database opens the database a Roster command is given, and keeps
// apart the runs that share one.
//
// A database is named by one string, as --db, $ROSTER_DB and a sync
// configuration's database give it: a PostgreSQL URL (postgres:// or
// postgresql://), a SQLite URL (sqlite://path) or a plain path to a SQLite
// file. KindOf is the one place that tells them apart; Open opens either
// as a store.Store (OpenExisting one that must be there already), Redact makes the name fit for logs, and Lock takes a
// lock that runs on different machines sharing the database see.
//
//	db := os.Getenv("ROSTER_DB") // "roster.db", "postgres://roster:pw@db/roster"…
//	st, err := database.Open(ctx, db)
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//	log.Printf("serving from %s", database.Redact(db))
package database
