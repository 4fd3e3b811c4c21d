package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/rosterhq/roster/store"
)

// TestConcurrentMemberAddsToOneGroup: member adds to one group from many
// callers at once each add their member, once, with its event, and each
// bumps the group's version; one naming a user that does not exist is
// refused alone.
func TestConcurrentMemberAddsToOneGroup(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 24
	var ids []string
	for i := range n {
		ids = append(ids, f.create(f.users, fmt.Sprintf(`{"userName":"u%d"}`, i)).ID())
	}
	g := f.create(f.groups, `{"displayName":"g"}`)
	ctx := context.Background()
	before, err := f.st.Events(ctx, store.EventQuery{Directory: f.dir, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, n+1)
	for i := range n + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == n { // a member that does not exist: refused alone
				_, errs[i] = f.patch(f.groups, g.ID(), addMember("no-such-user"))
				return
			}
			_, errs[i] = f.patch(f.groups, g.ID(), addMember(ids[i]))
		}()
	}
	wg.Wait()
	for i, err := range errs[:n] {
		if err != nil {
			t.Errorf("add %d: %v", i, err)
		}
	}
	if errs[n] == nil {
		t.Error("adding a member that does not exist succeeded")
	}
	got, err := f.st.Get(ctx, f.dir, f.groups, g.ID(), true)
	if err != nil {
		t.Fatal(err)
	}
	members, _ := got.Attrs["members"].([]any)
	if len(members) != n || got.Meta().Version != store.ETag(1+n) {
		t.Errorf("%d members, version %s; want %d and %s", len(members), got.Meta().Version, n, store.ETag(1+n))
	}
	events, err := f.st.Events(ctx, store.EventQuery{Directory: f.dir, After: before[len(before)-1].Seq, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	added := map[string]int{} // by member
	for _, e := range events {
		if e.Type == store.GroupUserAdded {
			added[e.Resource]++
		}
	}
	for _, id := range ids {
		if added[id] != 1 {
			t.Errorf("%d group.user_added events of %s, want 1", added[id], id)
		}
	}
	if len(events) != n {
		t.Errorf("%d events after the adds, want %d", len(events), n)
	}
}
