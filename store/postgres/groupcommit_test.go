package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/groupcommit"
	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlstore"
)

// TestGroupCommitGivesEachCreateItsOwnOutcome runs one flush of several
// creates, as concurrent callers would hand it: in one statement, a name
// taken before, a name taken within the batch (in another case) and a
// caller that gave up; then a batch the statement refuses as a whole (an
// unknown directory), where each create is tried alone and only the bad
// one fails.
func TestGroupCommitGivesEachCreateItsOwnOutcome(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.CreateDirectory(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	users := schema.NewRegistry().ResourceType("User")
	if _, err := st.Create(ctx, d.ID, user(t, users, "taken")); err != nil {
		t.Fatal(err)
	}
	gaveUp, cancel := context.WithCancel(ctx)
	cancel()

	type job struct {
		ctx           context.Context
		dir, userName string
		want          error // nil, or what errors.Is must find
	}
	flush := func(jobs []job) {
		t.Helper()
		var items []*groupcommit.Item[sqlstore.Insert]
		for _, j := range jobs {
			out, ins, _, err := st.NewInsert(j.dir, user(t, users, j.userName))
			if err != nil {
				t.Fatal(err)
			}
			// The event Create would add.
			ins.Events = []sqlstore.PendingEvent{{Type: "user.created", Directory: j.dir, Resource: out.ID(), Time: out.Meta().Created,
				Data: fmt.Appendf(nil, `{"id":%q,"userName":%q}`, out.ID(), j.userName), Context: []byte(`{"source":"scim"}`)}}
			items = append(items, &groupcommit.Item[sqlstore.Insert]{Ctx: j.ctx, Value: ins})
		}
		if !flushInserts(ctx, newDialect(st.pool), func() []*groupcommit.Item[sqlstore.Insert] { return items }) {
			t.Fatal("the flush was not ready")
		}
		for i, j := range jobs {
			got := items[i].Err
			if (j.want == nil) != (got == nil) || j.want != nil && !errors.Is(got, j.want) {
				t.Errorf("create %q in %q: %v, want %v", j.userName, j.dir, got, j.want)
			}
		}
	}
	flush([]job{
		{ctx, d.ID, "ada", nil},
		{ctx, d.ID, "TAKEN", store.ErrConflict},
		{ctx, d.ID, "alan", nil},
		{ctx, d.ID, "Ada", store.ErrConflict},
		{gaveUp, d.ID, "quitter", context.Canceled},
		{ctx, d.ID, "grace", nil},
	})
	flush([]job{
		{ctx, d.ID, "edsger", nil},
		{ctx, "no-such-directory", "barbara", store.ErrNotFound},
		{ctx, d.ID, "edsger", store.ErrConflict},
		{ctx, d.ID, "donald", nil},
	})
	page, err := st.List(ctx, d.ID, store.Query{Type: users, Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range page.Resources {
		names = append(names, fmt.Sprint(r.Attrs["userName"]))
	}
	slices.Sort(names)
	if got := strings.Join(names, " "); got != "ada alan donald edsger grace taken" || page.Total != 6 {
		t.Fatalf("stored %s (%d)", got, page.Total)
	}
	// An event for each create stored, none for the others, in the order
	// of each batch (sorted by name, as the flush inserts them).
	events, err := st.Events(ctx, store.EventQuery{Directory: d.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var created []string
	for _, e := range events[1:] { // after directory.created
		var data struct{ ID, UserName string }
		if err := json.Unmarshal(e.Data, &data); err != nil {
			t.Fatal(err)
		}
		if e.Type != "user.created" || e.Resource != data.ID {
			t.Errorf("event %s of %s: %s", e.Type, e.Resource, e.Data)
		}
		created = append(created, data.UserName)
	}
	if got := strings.Join(created, " "); got != "taken ada alan grace donald edsger" {
		t.Errorf("events of creates %s, want taken ada alan grace donald edsger", got)
	}
}

func user(t *testing.T, rt *schema.ResourceType, userName string) *resource.Resource {
	t.Helper()
	r, err := resource.Decode(rt, []byte(fmt.Sprintf(`{"userName":%q}`, userName)), resource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
