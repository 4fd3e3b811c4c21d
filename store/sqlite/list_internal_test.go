package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlstore"
)

// A page of a filtered list must search the filter's index, not walk the
// directory in insertion order to skip a sort.
func TestListPageUsesTheFiltersIndex(t *testing.T) {
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	users := schema.NewRegistry().ResourceType("User")
	// The plan SQLite picks depends on the data: fill a directory.
	tx, err := st.d.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO directories (id, name, name_key, created) VALUES ('d', 'd', 'd', '')`); err != nil {
		t.Fatal(err)
	}
	for i := range 5000 {
		name := fmt.Sprintf("user%d@example.com", i)
		if _, err := tx.Exec(`INSERT INTO resources (directory_id, type, id, name, name_key, external_id, created, last_modified, version, attrs)
			VALUES ('d', 'User', ?, ?, ?, ?, '', '', 1, '{}')`, fmt.Sprint(i), name, name, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{`userName eq "alice@example.com"`, `userName eq "user17@example.com"`, `externalId eq "00u1"`} {
		e, err := filter.Parse(f, users)
		if err != nil {
			t.Fatal(err)
		}
		w, args, err := where(e, users, []any{"d", "User"})
		if err != nil {
			t.Fatal(err)
		}
		ob, err := orderBy(store.Query{Type: users, Filter: e, Count: 100})
		if err != nil {
			t.Fatal(err)
		}
		q := sqlstore.PageQuery("r.directory_id = $1 AND r.type = $2 AND ("+w+")", ob, len(args))
		p := queryPlan(t, st.d.db, q, append(args, 100, 0)...)
		if strings.Contains(p, "resources_seq") || strings.Contains(p, "SCAN r") {
			t.Errorf("%s: plan %q walks the directory", f, p)
		}
	}
}

// TestAddMembersLooksUpEachID: adding members loops over the ids and looks
// each up by its index; a plan that scans the directory instead made
// adding 50 members to a group of a 100,000-user directory take seconds.
func TestAddMembersLooksUpEachID(t *testing.T) {
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	text := queryPlan(t, st.d.db, addMembersSQL, "g", `["a","b"]`, "d")
	if !strings.Contains(text, "SEARCH r USING INDEX sqlite_autoindex_resources_1 (directory_id=? AND id=?)") || strings.Contains(text, "SCAN r") {
		t.Fatalf("the plan for adding members:\n%s\nwant each id looked up in resources by (directory_id, id)", text)
	}
}

// queryPlan returns the lines of SQLite's EXPLAIN QUERY PLAN of a query,
// joined by newlines.
func queryPlan(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}
