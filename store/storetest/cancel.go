package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// ExpensiveList fills a new directory of st with 100 users of 200 email
// addresses each, and returns it with a query that reads every address of
// every user MaxComparisons times and matches none: seconds of work for
// either store, for tests of what a cancelled request costs.
func ExpensiveList(t *testing.T, st store.Store) (dir string, q store.Query) {
	t.Helper()
	d, err := st.CreateDirectory(context.Background(), "expensive")
	if err != nil {
		t.Fatal(err)
	}
	AddExpensiveUsers(t, st, d.ID, 100, 200)
	users := schema.NewRegistry().ResourceType("User")
	f, err := filter.Parse(ExpensiveFilter(), users)
	if err != nil {
		t.Fatal(err)
	}
	return d.ID, store.Query{Type: users, Filter: f, Count: 10}
}

// AddExpensiveUsers creates n users in the directory dir of st, each with
// emails email addresses, for ExpensiveFilter to read.
func AddExpensiveUsers(t *testing.T, st store.Store, dir string, n, emails int) {
	t.Helper()
	users := schema.NewRegistry().ResourceType("User")
	for i := range n {
		r := resource.New(users)
		r.Attrs["userName"] = fmt.Sprintf("user%d", i)
		list := make([]any, emails)
		for j := range list {
			list[j] = map[string]any{"value": fmt.Sprintf("u%d.%d@example.com", i, j), "type": "work"}
		}
		r.Attrs["emails"] = list
		if _, err := st.Create(context.Background(), dir, r); err != nil {
			t.Fatal(err)
		}
	}
}

// ExpensiveFilter is a users filter that no index serves and that reads
// every email address of every user filter.MaxComparisons times, matching
// none.
func ExpensiveFilter() string {
	terms := make([]string, filter.MaxComparisons)
	for i := range terms {
		terms[i] = fmt.Sprintf(`emails[value co "nobody%d"]`, i)
	}
	return strings.Join(terms, " or ")
}

// testCancelledList: a List whose context ends mid-query (the client of a
// request went away) returns promptly with the context's error instead of
// running for seconds, and the store answers the next query.
func (s *suite) testCancelledList(t *testing.T) {
	st := s.open(t)
	dir, q := ExpensiveList(t, st)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := st.List(ctx, dir, q)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("List cancelled after 50 ms returned after %v", took)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("List cancelled after 50 ms: %v; want an error that is context.Canceled", err)
	}
	p, err := st.List(context.Background(), dir, store.Query{Type: s.users, Count: 1})
	if err != nil || p.Total != 100 {
		t.Fatalf("List after a cancelled one: %d users, %v; want 100", p.Total, err)
	}
}

// testListBudget: a List whose selection runs past its Budget stops
// promptly with ErrOverBudget, one whose caller goes away first keeps
// context.Canceled, one within its budget answers, and the store answers
// the next query.
func (s *suite) testListBudget(t *testing.T) {
	st := s.open(t)
	dir, q := ExpensiveList(t, st)
	q.Budget = 20 * time.Millisecond
	start := time.Now()
	_, err := st.List(context.Background(), dir, q)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("List with a budget of 20 ms returned after %v", took)
	}
	if !errors.Is(err, store.ErrOverBudget) {
		t.Fatalf("List with a budget of 20 ms: %v; want store.ErrOverBudget", err)
	}

	q.Budget = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := st.List(ctx, dir, q); !errors.Is(err, context.Canceled) || errors.Is(err, store.ErrOverBudget) {
		t.Fatalf("List cancelled after 50 ms, within its budget: %v; want context.Canceled alone", err)
	}

	p, err := st.List(context.Background(), dir, store.Query{Type: s.users, Count: 1, Budget: time.Minute})
	if err != nil || p.Total != 100 || len(p.Resources) != 1 {
		t.Fatalf("List within its budget: %d of %d users, %v; want 1 of 100", len(p.Resources), p.Total, err)
	}

	// Every user in creation order, an index's walk, is not bounded: an
	// import pages through a directory of any size. A sort is.
	p, err = st.List(context.Background(), dir, store.Query{Type: s.users, StartIndex: 50, Count: 10, Budget: time.Nanosecond})
	if err != nil || p.Total != 100 || len(p.Resources) != 10 {
		t.Fatalf("List of every user with a budget of 1 ns: %d of %d users, %v; want 10 of 100", len(p.Resources), p.Total, err)
	}
	sortBy, err := s.users.Resolve("userName")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.List(context.Background(), dir, store.Query{Type: s.users, SortBy: sortBy, Count: 10, Budget: time.Nanosecond}); !errors.Is(err, store.ErrOverBudget) {
		t.Fatalf("List sorted by userName with a budget of 1 ns: %v; want store.ErrOverBudget", err)
	}
}

// BenchmarkLongValues measures List with a userName eq, a displayName eq
// and an emails eq of a megabyte each, past filter.Parse's bound on
// literals (a store must not depend on it), in a directory of 1,000 users
// and 10 groups. Each dialect's benchmarks call it.
func BenchmarkLongValues(b *testing.B, st store.Store) {
	ctx := context.Background()
	d, err := st.CreateDirectory(ctx, "long")
	if err != nil {
		b.Fatal(err)
	}
	reg := schema.NewRegistry()
	users, groups := reg.ResourceType("User"), reg.ResourceType("Group")
	for i := range 1010 {
		r := resource.New(users)
		r.Attrs["userName"] = fmt.Sprintf("user%d@example.com", i)
		r.Attrs["emails"] = []any{map[string]any{"value": fmt.Sprintf("user%d@example.com", i)}}
		if i >= 1000 {
			r = resource.New(groups)
			r.Attrs["displayName"] = fmt.Sprintf("group%d", i)
		}
		if _, err := st.Create(ctx, d.ID, r); err != nil {
			b.Fatal(err)
		}
	}
	long := "USER" + strings.Repeat("X", 1<<20-4) // 1 MiB
	for _, bm := range []struct {
		name, filter string
		rt           *schema.ResourceType
	}{
		{"userName eq", `userName eq "x"`, users},
		{"displayName eq", `displayName eq "x"`, groups},
		{"emails.value eq", `emails.value eq "x"`, users},
		{"userName sw", `userName sw "x"`, users},
	} {
		f, err := filter.Parse(bm.filter, bm.rt)
		if err != nil {
			b.Fatal(err)
		}
		f.(*filter.Compare).Value = long
		b.Run(bm.name+" of 1 MiB", func(b *testing.B) {
			for b.Loop() {
				if p, err := st.List(ctx, d.ID, store.Query{Type: bm.rt, Filter: f, Count: 10}); err != nil || p.Total != 0 {
					b.Fatalf("List: %d, %v", p.Total, err)
				}
			}
		})
	}
}
