package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
