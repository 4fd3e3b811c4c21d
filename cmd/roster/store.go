package main

import (
	"context"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/postgres"
	"github.com/rosterhq/roster/store/sqlite"
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

// isPostgres reports whether db names a PostgreSQL database.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// openStore opens the database db names, applying the migrations it
// lacks: PostgreSQL for a postgres:// URL, else a SQLite file.
func openStore(ctx context.Context, db string) (store.Store, error) {
	if isPostgres(db) {
		return postgres.Open(ctx, db)
	}
	return openSQLite(ctx, db)
}

// openSQLite opens the SQLite file db names: a path, or a sqlite:// URL.
func openSQLite(ctx context.Context, db string) (*sqlite.Store, error) {
	return sqlite.Open(ctx, strings.TrimPrefix(db, "sqlite://"))
}

// redact returns db with a URL's password hidden, for logs: the user
// information's, and the query's password parameter, which pgx reads too.
func redact(db string) string {
	if !isPostgres(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		scheme, _, _ := strings.Cut(db, "://")
		return scheme + "://xxxxx" // pgx cannot use it either
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
