package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/store"
)

// TestMemberEventsNameTheGroupAsCommitted renames a group while a member
// add to it waits between its read of the group and its COMMIT, which
// also bumps the group's version: the add runs again, and its answer and
// its event both name the group as renamed.
func TestMemberEventsNameTheGroupAsCommitted(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.create(f.users, `{"userName":"u1"}`)
	g := f.create(f.groups, `{"displayName":"Old"}`)
	// Hold the user, so that the add waits at its membership's foreign
	// key, after it has read the group.
	tx, err := f.st.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM resources WHERE id = $1 FOR UPDATE`, u.ID()); err != nil {
		t.Fatal(err)
	}
	type result struct {
		r   *resource.Resource
		err error
	}
	done := make(chan result, 1)
	go func() {
		req, err := patch.Parse(f.groups, []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+addMember(u.ID())+`]}`), resource.Options{})
		if err != nil {
			done <- result{nil, err}
			return
		}
		r, err := f.st.Patch(ctx, f.dir, f.groups, g.ID(), req, "", false)
		done <- result{r, err}
	}()
	for waiting := 0; waiting == 0; time.Sleep(5 * time.Millisecond) {
		if err := f.st.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.patch(f.groups, g.ID(), `{"op":"replace","path":"displayName","value":"New"}`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	events, err := f.st.Events(ctx, store.EventQuery{Directory: f.dir, Types: []string{store.GroupUserAdded}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var data []string
	for _, e := range events {
		data = append(data, string(e.Data))
	}
	if res.r.Attrs["displayName"] != "New" || len(data) != 1 || !strings.Contains(data[0], `"displayName":"New"`) {
		t.Fatalf("the add answered %v, and its events' data are %s; want both to name the group New", res.r.Attrs["displayName"], data)
	}
}
