package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// TestNameEqFindsRowsFromBeforeFoldKey: a name eq looks up fold_key
// alone, so rows written before migration 4 (which had no fold_key) must
// be found through its backfill, under every spelling EqualFold equates.
func TestNameEqFindsRowsFromBeforeFoldKey(t *testing.T) {
	ctx := context.Background()
	registerFunctions()
	path := filepath.Join(t.TempDir(), "roster.db")
	rc, err := newConnector("file:" + path + "?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(rc)
	p, err := provider(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO directories (id, name, name_key, created) VALUES ('d', 'd', 'd', '2020-01-01T00:00:00.000000000Z')`)
	names := map[string]string{"u1": "Jeſſica", "u2": "Kelvin\u212a", "u3": "ΟΔΥΣΣΕΥΣ", "u4": "nul\x00byte"}
	for id, name := range names {
		exec(`INSERT INTO resources (directory_id, type, id, name, name_key, created, last_modified, version, attrs)
			VALUES ('d', 'User', ?, ?, lower(?), '2020-01-01T00:00:00.000000000Z', '2020-01-01T00:00:00.000000000Z', 1, json_object('userName', ?))`,
			id, name, name, name)
	}
	db.Close()

	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	users := schema.NewRegistry().ResourceType("User")
	for id, lit := range map[string]string{"u1": "JESSICA", "u2": "KELVINk", "u3": "οδυσσευς", "u4": "NUL\x00BYTE"} {
		f, err := filter.Parse(`userName eq "x"`, users)
		if err != nil {
			t.Fatal(err)
		}
		f.(*filter.Compare).Value = lit
		page, err := st.List(ctx, "d", store.Query{Type: users, Filter: f, Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Resources) != 1 || page.Resources[0].ID() != id {
			t.Errorf("userName eq %q: %d resources, want %s (%q)", lit, len(page.Resources), id, names[id])
		}
	}
	var nulls int
	if err := st.d.db.QueryRow(`SELECT count(*) FROM resources WHERE fold_key IS NULL OR fold_key <> scim_fold(name)`).Scan(&nulls); err != nil {
		t.Fatal(err)
	}
	if nulls != 0 {
		t.Errorf("%d rows without their fold key after the migrations", nulls)
	}
}
