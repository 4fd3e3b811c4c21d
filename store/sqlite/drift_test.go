package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// The tests here hold SQLite to what store/postgres did and it did not,
// before both were one store over store/sqlstore.

// A stored time that cannot be read fails the call: an expiry read as the
// zero time made a token never expire.
func TestUnreadableStoredTimeFailsClosed(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.CreateDirectory(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	tok, secret, err := st.CreateToken(ctx, d.ID, "okta", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(ctx, secret); err != nil {
		t.Fatalf("a fresh token: %v", err)
	}
	for _, expires := range []string{"next tuesday", "2026-13-01T00:00:00.000000000Z", ""} {
		if _, err := st.d.w.Exec(`UPDATE tokens SET expires = ? WHERE id = ?`, expires, tok.ID); err != nil {
			t.Fatal(err)
		}
		got, err := st.Authenticate(ctx, secret)
		if err == nil {
			t.Errorf("expires %q: authenticated as %+v, want an error", expires, got)
		} else if errors.Is(err, store.ErrNotFound) {
			t.Errorf("expires %q: %v, want an error that is not 'not found'", expires, err)
		}
	}
}

// Removing members is one statement that looks each id up by the primary
// key, not a DELETE per member.
func TestRemoveMembersLooksUpEachID(t *testing.T) {
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	text := queryPlan(t, st.d.db, removeMembersSQL, "d", "g", `["a","b"]`)
	if !strings.Contains(text, "SEARCH members USING PRIMARY KEY (directory_id=? AND group_id=? AND member_id=?)") || strings.Contains(text, "SCAN members") {
		t.Fatalf("the plan for removing members:\n%s\nwant each id looked up by the primary key", text)
	}
}

// emails.value eq and emails[value eq …] look the email's key up in an
// index (resource_emails), as PostgreSQL's GIN index on email_keys does,
// instead of reading every user's emails.
func TestEmailFilterUsesTheEmailIndex(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.CreateDirectory(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	users := schema.NewRegistry().ResourceType("User")
	// The plan SQLite picks depends on the data: fill the directory, and
	// check what the filters find.
	for i := range 2000 {
		r, err := resource.Decode(users, []byte(fmt.Sprintf(`{"userName":"u%d","emails":[{"value":"U%d@Example.com","type":"work"},{"value":"u%d@home.example"}]}`, i, i, i)), resource.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Create(ctx, d.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{`emails.value eq "u17@example.com"`, `emails[value eq "U17@EXAMPLE.COM" and type eq "work"]`,
		`emails[value eq "u17@example.com" or value eq "u18@home.example"]`,
		`emails[type eq "work"].value eq "u17@example.com"`} { // Entra's lookup
		e, err := filter.Parse(f, users)
		if err != nil {
			t.Fatal(err)
		}
		page, err := st.List(ctx, d.ID, store.Query{Type: users, Filter: e, Count: 10})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if want := 1 + strings.Count(f, " or "); page.Total != want {
			t.Errorf("%s: %d users, want %d", f, page.Total, want)
		}
		w, args, err := where(e, users, []any{d.ID, "User"})
		if err != nil {
			t.Fatal(err)
		}
		p := queryPlan(t, st.d.db, "SELECT count(*) FROM resources r WHERE r.directory_id = $1 AND r.type = $2 AND ("+w+")", args...)
		if !strings.Contains(p, "SEARCH k USING PRIMARY KEY (email_key=? AND directory_id=?)") || strings.Contains(p, "SCAN r") {
			t.Errorf("%s: the plan\n%s\nreads every user's emails; want the email keys looked up in the directory", f, p)
		}
	}
	// Changing and removing a user's emails changes what the index finds.
	u, err := resource.Decode(users, []byte(`{"userName":"mover","emails":[{"value":"old@example.com"}]}`), resource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err = st.Create(ctx, d.ID, u)
	if err != nil {
		t.Fatal(err)
	}
	count := func(f string) int {
		t.Helper()
		e, err := filter.Parse(f, users)
		if err != nil {
			t.Fatal(err)
		}
		page, err := st.List(ctx, d.ID, store.Query{Type: users, Filter: e})
		if err != nil {
			t.Fatal(err)
		}
		return page.Total
	}
	u.Attrs["emails"] = []any{map[string]any{"value": "new@example.com"}}
	if _, err := st.Replace(ctx, d.ID, u, ""); err != nil {
		t.Fatal(err)
	}
	if o, n := count(`emails.value eq "old@example.com"`), count(`emails.value eq "NEW@example.com"`); o != 0 || n != 1 {
		t.Errorf("after a replace: %d users with the old email, %d with the new; want 0 and 1", o, n)
	}
	var keys string
	if err := st.d.db.QueryRow(`SELECT group_concat(email_key) FROM resource_emails WHERE resource_id = ?`, u.ID()).Scan(&keys); err != nil || keys != "new@example.com" {
		t.Errorf("after a replace, the user's email keys are %q (%v), want new@example.com", keys, err)
	}
	if err := st.Delete(ctx, d.ID, users, u.ID(), ""); err != nil {
		t.Fatal(err)
	}
	if n := count(`emails.value eq "new@example.com"`); n != 0 {
		t.Errorf("after a delete: %d users with the email, want 0", n)
	}
	// The triggers keep the side table itself exact, not only the answers.
	var rows int
	if err := st.d.db.QueryRow(`SELECT count(*) FROM resource_emails WHERE resource_id = ?`, u.ID()).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("after a delete, %d rows of the user's email keys are left (%v), want 0", rows, err)
	}
}
