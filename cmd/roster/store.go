package main

import (
	"os"

	"github.com/spf13/pflag"
)

// defaultDB is the database commands use without --db: $ROSTER_DB, or the
// SQLite file roster.db in the working directory.
func defaultDB() string {
	if db := os.Getenv("ROSTER_DB"); db != "" {
		return db
	}
	return "roster.db"
}

// addDBFlag adds the --db flag to a command's flags.
func addDBFlag(flags *pflag.FlagSet, db *string) {
	flags.StringVar(db, "db", defaultDB(),
		"database: a SQLite file, or a PostgreSQL URL (postgres://user:pass@host/db); default $ROSTER_DB or roster.db")
}
