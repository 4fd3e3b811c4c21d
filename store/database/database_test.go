package database_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/store/database"
)

func TestKindOf(t *testing.T) {
	for _, tt := range []struct {
		db   string
		kind database.Kind
		file string
	}{
		{"postgres://roster@db/roster", database.PostgreSQL, ""},
		{"postgresql://roster:s3cret@db:5432/roster?sslmode=require", database.PostgreSQL, ""},
		{"sqlite:///var/lib/roster/roster.db", database.SQLite, "/var/lib/roster/roster.db"},
		{"sqlite://roster.db", database.SQLite, "roster.db"},
		{"roster.db", database.SQLite, "roster.db"},
		{"/var/lib/roster/roster.db", database.SQLite, "/var/lib/roster/roster.db"},
		{"postgres.db", database.SQLite, "postgres.db"},
		{"data/postgres://x", database.SQLite, "data/postgres://x"},
		// The scheme is compared as written, as pgx does: POSTGRES://
		// would be a file, as it always was.
		{"POSTGRES://db/roster", database.SQLite, "POSTGRES://db/roster"},
	} {
		if got := database.KindOf(tt.db); got != tt.kind {
			t.Errorf("KindOf(%q) = %v, want %v", tt.db, got, tt.kind)
		}
		if got := database.File(tt.db); got != tt.file {
			t.Errorf("File(%q) = %q, want %q", tt.db, got, tt.file)
		}
	}
}

func TestRedactHidesThePassword(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://roster:s3cret@db:5432/roster?sslmode=require": "postgres://roster:xxxxx@db:5432/roster?sslmode=require",
		"postgresql://roster@db/roster":                           "postgresql://roster@db/roster",
		"roster.db":                                               "roster.db",
	} {
		if got := database.Redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRedactHidesAPasswordInTheQuery: pgx takes the password from the
// URL's query too.
func TestRedactHidesAPasswordInTheQuery(t *testing.T) {
	for _, in := range []string{
		"postgres://db/roster?user=roster&password=s3cret",
		"postgresql://roster:s3cret@db/roster?sslmode=disable",
		"postgres://roster@db/roster?sslmode=disable&password=s3cret&application_name=roster",
	} {
		cfg, err := pgconn.ParseConfig(in)
		if err != nil || cfg.Password != "s3cret" {
			t.Fatalf("pgx takes %s with the password %q, %v", in, cfg.Password, err)
		}
		if got := database.Redact(in); strings.Contains(got, "s3cret") || !strings.Contains(got, "db/roster") {
			t.Errorf("redact(%q) = %q", in, got)
		}
	}
}

// TestOpenOpensEitherKind opens a database of each kind, migrated: a
// directory can be created and found again after reopening.
func TestOpenOpensEitherKind(t *testing.T) {
	for _, tt := range []struct {
		name string
		db   func(t *testing.T) string
	}{
		{"a SQLite file by its path", func(t *testing.T) string { return filepath.Join(t.TempDir(), "roster.db") }},
		{"a SQLite file by a sqlite:// URL", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "roster.db") }},
		{"a PostgreSQL database", func(t *testing.T) string { return pgtest.New(t) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := tt.db(t)
			st, err := database.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			dir, err := st.CreateDirectory(ctx, "acme")
			if err != nil {
				st.Close()
				t.Fatal(err)
			}
			st.Close()
			st, err = database.Open(ctx, db)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer st.Close()
			if got, err := st.Directory(ctx, "acme"); err != nil || got.ID != dir.ID {
				t.Fatalf("after reopening, directory acme is %+v, %v; want id %s", got, err, dir.ID)
			}
		})
	}
}

// TestOpenFailsWithANilStore: a failed Open returns a nil interface, not a
// nil *Store in one, so that `st != nil` checks hold.
func TestOpenFailsWithANilStore(t *testing.T) {
	for _, db := range []string{
		filepath.Join(t.TempDir(), "no", "such", "dir", "roster.db"),
		"postgres://roster@127.0.0.1:1/roster?connect_timeout=1",
	} {
		st, err := database.Open(context.Background(), db)
		if err == nil || st != nil {
			t.Errorf("Open(%q) = %v, %v; want nil and an error", db, st, err)
		}
	}
}

// TestOpenExistingNeverCreatesASQLiteFile: a missing file is an error
// that says so, and is not created; an existing one opens.
func TestOpenExistingNeverCreatesASQLiteFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, db := range []string{filepath.Join(dir, "roster.db"), "sqlite://" + filepath.Join(dir, "roster.db")} {
		st, err := database.OpenExisting(ctx, db)
		if !errors.Is(err, fs.ErrNotExist) || st != nil {
			t.Fatalf("OpenExisting(%q) of a missing file = %v, %v; want nil and fs.ErrNotExist", db, st, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "roster.db")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("OpenExisting(%q) created the file (%v)", db, err)
		}
	}
	created, err := database.Open(ctx, filepath.Join(dir, "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	created.Close()
	st, err := database.OpenExisting(ctx, "sqlite://"+filepath.Join(dir, "roster.db"))
	if err != nil {
		t.Fatalf("OpenExisting of a database Open created: %v", err)
	}
	st.Close()
}

// TestLockKeepsSessionsApart takes locks as two machines sharing a
// PostgreSQL database would: a name is held by one session at a time, and
// different names do not conflict.
func TestLockKeepsSessionsApart(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	unlockA, err := database.Lock(ctx, db, "roster sync https://app.example.com/scim/v2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := database.Lock(ctx, db, "roster sync https://app.example.com/scim/v2"); !errors.Is(err, database.ErrLocked) {
		t.Fatalf("a second Lock of the same name: %v, want ErrLocked", err)
	}
	unlockOther, err := database.Lock(ctx, db, "roster sync https://other.example.com/scim/v2")
	if err != nil {
		t.Fatalf("a Lock of another name: %v", err)
	}
	defer unlockOther()
	unlockA()
	unlockB, err := database.Lock(ctx, db, "roster sync https://app.example.com/scim/v2")
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlockB()
}

// TestLockTakesTheURLsOpenTakes: a URL with the pool's own parameters,
// which the store accepts, locks too (pgx alone would send them to the
// server, which refuses them).
func TestLockTakesTheURLsOpenTakes(t *testing.T) {
	db := pgtest.New(t)
	sep := "?"
	if strings.Contains(db, "?") {
		sep = "&"
	}
	unlock, err := database.Lock(context.Background(), db+sep+"pool_max_conns=2", "roster test")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}

// TestLockOnSQLiteTakesNothing: SQLite files are one machine's, kept
// apart by lock files, so Lock neither fails nor creates the file.
func TestLockOnSQLiteTakesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.db")
	for range 2 {
		unlock, err := database.Lock(context.Background(), path, "roster sync x")
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Lock touched the SQLite file: %v", err)
	}
}
