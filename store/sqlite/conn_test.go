package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// prepared returns how many statements the connection c keeps prepared.
func prepared(t *testing.T, c *sql.Conn) int {
	t.Helper()
	n := 0
	if err := c.Raw(func(dc any) error { n = len(dc.(*conn).stmts); return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// A connection prepares a text once and reuses it; the same text run while
// its rows are still open (a query inside a loop over another's rows, in one
// transaction) runs unprepared beside it, and both read what they should.
func TestConnectionsKeepStatementsPrepared(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, name := range []string{"a", "b", "c"} {
		if _, err := st.CreateDirectory(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	c, err := st.d.w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const q = `SELECT name FROM directories WHERE name > $1 ORDER BY name`
	before := prepared(t, c)
	for range 3 {
		var name string
		if err := c.QueryRowContext(ctx, q, "a").Scan(&name); err != nil || name != "b" {
			t.Fatalf("got %q, %v; want b", name, err)
		}
	}
	if got := prepared(t, c); got != before+1 {
		t.Fatalf("%d statements prepared after running one text three times, want %d", got, before+1)
	}

	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	outer, err := tx.QueryContext(ctx, q, "")
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for outer.Next() {
		var o string
		if err := outer.Scan(&o); err != nil {
			t.Fatal(err)
		}
		inner, err := tx.QueryContext(ctx, q, o) // the same text, its statement busy
		if err != nil {
			t.Fatal(err)
		}
		for inner.Next() {
			var i string
			if err := inner.Scan(&i); err != nil {
				t.Fatal(err)
			}
			pairs = append(pairs, o+i)
		}
		if err := inner.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(pairs); got != "[ab ac bc]" {
		t.Fatalf("nested queries of one text read %s, want [ab ac bc]", got)
	}
}
