package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pressly/goose/v3"
)

// A database that has a later migration applied takes an earlier one
// merged after it (a branch's number, taken ahead of its merge), as a
// database made between two branches' merges had the later number.
func TestMigrationsMergedLaterApplyOutOfOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	registerFunctions()
	rc, err := newConnector("file:" + filepath.Join(t.TempDir(), "roster.db") + "?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(rc)
	defer db.Close()
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	without := fstest.MapFS{}
	entries, err := fs.ReadDir(sub, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "00009_") {
			continue
		}
		b, err := fs.ReadFile(sub, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		without[e.Name()] = &fstest.MapFile{Data: b}
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, without)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("the migrations but 00009: %v", err)
	}
	if err := migrate(ctx, db); err != nil {
		t.Fatalf("migrate a database without 00009: %v", err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM webhooks`).Scan(&n); err != nil {
		t.Fatalf("00009's table after migrate: %v", err)
	}
}

// TestANewerSchemaIsRefused: a database a newer roster has migrated (a
// version this one does not know) is not opened, rather than written
// without what that schema needs (since migration 12, an insert writes
// its email index itself).
func TestANewerSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "roster.db")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.d.w.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, 1)`); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if st, err = Open(ctx, path); err == nil {
		st.Close()
		t.Fatal("a database at a newer schema opened")
	}
	if !strings.Contains(err.Error(), "99999") {
		t.Fatalf("the error does not say the schema's version: %v", err)
	}
}
