package main

import (
	"cmp"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/rosterhq/roster/store/database"
)

// dbFlag is the --db flag of the commands that open the database.
type dbFlag struct {
	flag string
	env  getenv
}

// add adds --db to flags.
func (d *dbFlag) add(flags *pflag.FlagSet, env getenv) {
	d.env = env
	flags.StringVar(&d.flag, "db", "",
		"database: a SQLite file, or a PostgreSQL URL (postgres://user:pass@host/db) (default $ROSTER_DB, else roster.db in the working directory)")
}

// String returns the database the command uses: --db, else $ROSTER_DB,
// else the SQLite file roster.db in the working directory. The default is
// read when the command runs, so that --help never prints a password of a
// URL in $ROSTER_DB.
func (d *dbFlag) String() string {
	return cmp.Or(d.flag, d.env("ROSTER_DB"), "roster.db")
}

// dbName returns db as logs and errors show it: a SQLite file's absolute
// path, so that a user sees which folder it is in; a URL without its
// password.
func dbName(db string) string {
	if f := database.File(db); f != "" {
		if abs, err := filepath.Abs(f); err == nil {
			return abs
		}
		return f
	}
	return database.Redact(db)
}
