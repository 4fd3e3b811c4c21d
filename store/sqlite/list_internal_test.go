package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlstore"
	"github.com/rosterhq/roster/store/storetest"
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
	for _, f := range []string{`userName eq "alice@example.com"`, `userName eq "user17@example.com"`, `externalId eq "00u1"`,
		`emails.value eq "user17@example.com"`, `emails[type eq "work"].value eq "user17@example.com"`, // Entra's lookup
		`meta.lastModified gt "2026-12-01T00:00:00Z"`, `meta.lastModified le "2020-12-01T00:00:00Z"`} {
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
		// The page's query as List writes it.
		page := sqlstore.PageQuery
		if st.d.Materialize(store.Query{Type: users, Filter: e}) {
			page = sqlstore.MaterializedPageQuery
		}
		q := page("r.directory_id = $1 AND r.type = $2 AND ("+w+")", ob, len(args))
		p := queryPlan(t, st.d.db, q, append(args, 100, 0)...)
		if strings.Contains(p, "resources_seq") || strings.Contains(p, "SCAN r") {
			t.Errorf("%s: plan %q walks the directory", f, p)
		}
		// A cursor page: in seq order after a seq.
		n := len(args) + 1
		q = page("r.directory_id = $1 AND r.type = $2 AND ("+w+") AND r.seq > $"+fmt.Sprint(n), "r.seq", n)
		p = queryPlan(t, st.d.db, q, append(args, 0, 101, 0)...)
		if strings.Contains(p, "resources_seq") || strings.Contains(p, "SCAN r") {
			t.Errorf("%s, a cursor page: plan %q walks the directory", f, p)
		}
	}
}

// TestAPageStopsWhenItsContextEnds: the page List reads stops when its
// context ends, also after the database found its first row.
// modernc.org/sqlite interrupts only the step that QueryContext runs; a
// cursor page with a filter walks the directory in seq order, and after a
// first match it filtered the rest of the directory in Rows.Next, where a
// cancelled request went on for seconds. The page is materialized, found
// whole in that first step (Statements.MaterializePage).
func TestAPageStopsWhenItsContextEnds(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dir, q := storetest.ExpensiveList(t, st)
	// The first user matches the filter; the others cost seconds.
	first, err := st.List(ctx, dir, store.Query{Type: q.Type, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	u := first.Resources[0]
	u.Attrs["emails"] = []any{map[string]any{"value": "nobody0@example.com"}}
	if _, err := st.Replace(ctx, dir, u, ""); err != nil {
		t.Fatal(err)
	}
	w, args, err := where(q.Filter, q.Type, []any{dir, "User", int64(0)})
	if err != nil {
		t.Fatal(err)
	}
	// The cursor page of List: after seq 0, in seq order.
	cond := "r.directory_id = $1 AND r.type = $2 AND r.seq > $3 AND (" + w + ")"
	query := sqlstore.PageQuery(cond, "r.seq", len(args))
	if st.d.Materialize(q) {
		query = sqlstore.MaterializedPageQuery(cond, "r.seq", len(args))
	}
	cancelled, cancel := context.WithCancel(ctx)
	defer cancel()
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	n, err := countRows(cancelled, st.d.Reader(), query, append(args, 11, 0)...)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a page cancelled after 50 ms ended after %v (%d rows)", took, n)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("a page cancelled after 50 ms: %d rows, %v; want context.Canceled", n, err)
	}
}

// countRows runs a query and counts its rows.
func countRows(ctx context.Context, db sqlstore.Querier, query string, args ...any) (int, error) {
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, ctx.Err() // database/sql may end the rows early without an error
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
