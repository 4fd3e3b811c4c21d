package database

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/postgres"
	"github.com/rosterhq/roster/store/sqlite"
	"github.com/rosterhq/roster/store/sqlstore"
)

// Kind is the kind of database a name names.
type Kind int

// The kinds of database Roster stores its data in.
const (
	// SQLite is a SQLite file, named by its path or a sqlite:// URL.
	SQLite Kind = iota
	// PostgreSQL is a PostgreSQL database, named by a postgres:// or
	// postgresql:// URL.
	PostgreSQL
)

// String returns the kind's name: "SQLite" or "PostgreSQL".
func (k Kind) String() string {
	switch k {
	case SQLite:
		return "SQLite"
	case PostgreSQL:
		return "PostgreSQL"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// sqliteScheme starts a SQLite URL; what follows it is the file's path.
const sqliteScheme = "sqlite://"

// KindOf returns the kind of database db names: PostgreSQL for a
// postgres:// or postgresql:// URL, else SQLite (a sqlite:// URL or a
// plain path).
func KindOf(db string) Kind {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return PostgreSQL
	}
	return SQLite
}

// File returns the path of the SQLite file db names: db without its
// sqlite:// prefix, if it has one. It returns "" when db names a
// PostgreSQL database. A caller that resolves relative paths against a
// directory of its own resolves File's result.
func File(db string) string {
	if KindOf(db) != SQLite {
		return ""
	}
	return strings.TrimPrefix(db, sqliteScheme)
}

// Open opens the database db names with the store options opts (such as
// sqlstore.WithSecretKey), applying the migrations it lacks, as
// sqlite.Open and postgres.Open do. Their errors say which database
// failed and never show a password, so Open returns them as they are.
func Open(ctx context.Context, db string, opts ...sqlstore.Option) (store.Store, error) {
	// Each branch returns a nil interface on error, not a nil pointer in
	// a non-nil interface.
	if KindOf(db) == PostgreSQL {
		st, err := postgres.Open(ctx, db, opts...)
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	st, err := sqlite.Open(ctx, File(db), opts...)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// Migrate applies the migrations the database db lacks (on PostgreSQL
// under the advisory lock servers starting together take; a SQLite file
// is created if missing) and returns its schema version.
func Migrate(ctx context.Context, db string) (int64, error) {
	if KindOf(db) == PostgreSQL {
		st, err := postgres.Connect(ctx, db)
		if err != nil {
			return 0, err
		}
		defer st.Close()
		return st.Migrate(ctx)
	}
	st, err := sqlite.Open(ctx, File(db))
	if err != nil {
		return 0, err
	}
	defer st.Close()
	return st.SchemaVersion(ctx)
}

// OpenExisting is Open for a database that must be there already, as for
// commands that manage one a server uses: a SQLite file that does not
// exist is an error that errors.Is reports as fs.ErrNotExist, and no file
// is created. (A PostgreSQL database is never created by Open: connecting
// to one that does not exist fails.)
func OpenExisting(ctx context.Context, db string, opts ...sqlstore.Option) (store.Store, error) {
	if f := File(db); f != "" {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("database: %w", err)
		}
	}
	return Open(ctx, db, opts...)
}

// Redact returns db with a URL's password hidden, for logs: the user
// information's, and the query's password parameter, which pgx reads too.
func Redact(db string) string {
	if KindOf(db) != PostgreSQL {
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

// ErrLocked is the error of Lock when another session holds the lock.
var ErrLocked = errors.New("database: the lock is held by another session")

// Lock takes the lock called name in the database db names, or fails at
// once with an error that errors.Is reports as ErrLocked if another
// session holds it. The lock goes when unlock is called, or when the
// process dies.
//
// On PostgreSQL it is a session advisory lock on a 64-bit hash of name,
// held by a connection of its own (not one of a store's pool, which could
// hand it to another caller), so processes on different machines sharing
// the database see it. The hash is FNV-1a of name's bytes: a name must
// keep its spelling across releases, or an old and a new process would
// not see each other's locks.
//
// On SQLite it takes nothing and returns an unlock that does nothing: a
// SQLite file is used by the processes of one machine, which a lock file
// (such as the sync's, beside its state) already keeps apart.
func Lock(ctx context.Context, db, name string) (unlock func(), err error) {
	if KindOf(db) != PostgreSQL {
		return func() {}, nil
	}
	// The URLs the store takes, pool_max_conns and all.
	cfg, err := postgres.ParseConfig(db)
	if err != nil {
		return nil, fmt.Errorf("database: lock %s: %w", name, err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("database: lock %s: %w", name, err)
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	key := int64(h.Sum64())
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("database: lock %s: %w", name, err)
	}
	if !got {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("database: lock %s: %w", name, ErrLocked)
	}
	return func() {
		// Unlock before closing: the server ends a closed session, and
		// releases its locks, a moment after the connection goes, so that a
		// Lock right after an unlock (the next run of a daemon) could find
		// the lock still held.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, key)
		conn.Close(ctx)
	}, nil
}
