package sqlite_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// TestABudgetLeavesOutTheMembers: a list's Budget bounds the selection of
// its page, not the reading of the page's members, which costs the size
// of the group whatever the filter: a group of 5,000 members is listed
// with them under a budget far shorter than reading them takes.
func TestABudgetLeavesOutTheMembers(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	d, err := st.CreateDirectory(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	reg := schema.NewRegistry()
	users, groups := reg.ResourceType("User"), reg.ResourceType("Group")
	const n = 5000
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				r := resource.New(users)
				r.Attrs["userName"] = fmt.Sprintf("user%d@example.com", i)
				u, err := st.Create(ctx, d.ID, r)
				if err != nil {
					errs <- err
					return
				}
				ids[i] = u.ID()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	g := resource.New(groups)
	g.Attrs["displayName"] = "Everyone"
	members := make([]any, n)
	for i, id := range ids {
		members[i] = map[string]any{"value": id}
	}
	g.Attrs["members"] = members
	if _, err := st.Create(ctx, d.ID, g); err != nil {
		t.Fatal(err)
	}

	// The budget (which bounds filtered lists): five times the longest of
	// five selections of the page alone (no members), which the members'
	// reading must exceed.
	f, err := filter.Parse(`displayName eq "Everyone"`, groups)
	if err != nil {
		t.Fatal(err)
	}
	q := store.Query{Type: groups, Filter: f, Count: 10}
	var selection time.Duration
	for range 5 {
		start := time.Now()
		if _, err := st.List(ctx, d.ID, q); err != nil {
			t.Fatal(err)
		}
		selection = max(selection, time.Since(start))
	}
	budget := 5*selection + time.Millisecond
	q.Members, q.Budget = true, budget
	start := time.Now()
	p, err := st.List(ctx, d.ID, q)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("a page of one group of %d members, with a budget of %v: %v", n, budget, err)
	}
	if got, _ := p.Resources[0].Attrs["members"].([]any); len(got) != n {
		t.Fatalf("the group has %d members, want %d", len(got), n)
	}
	if took < 2*budget {
		t.Fatalf("listed with its members in %v, with a budget of %v: too fast to tell whether the budget counts the members", took, budget)
	}
}
