package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/storetest"
)

// TestAQueryPastTheBudgetIsTooMany: a list or search whose query runs past
// the server's QueryBudget (a filter no index serves, over many users)
// stops and gets 400 tooMany, on the type's endpoints and on /.search;
// the store answers the next query, and the metric counts the refusals.
// (Without the budget this query costs about half a second of CPU on
// SQLite for these ten users; a million users make it hours.)
func TestAQueryPastTheBudgetIsTooMany(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{QueryBudget: 100 * time.Millisecond})
		ctx := context.Background()
		users := schema.NewRegistry().ResourceType("User")
		storetest.AddExpensiveUsers(t, a.st, a.dir.ID, 10, 100)
		expensive := storetest.ExpensiveFilter()
		search := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": expensive}

		for _, tc := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/Users" + query("filter", expensive), nil},
			{"GET", "/Users" + query("filter", expensive, "cursor", ""), nil},
			{"POST", "/Users/.search", search},
			{"POST", "/.search", search},
		} {
			start := time.Now()
			e := a.mustFail(t, http.StatusBadRequest, "tooMany", tc.method, tc.path, tc.body)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("%s %s: refused after %v; the budget is 100 ms", tc.method, tc.path, took)
			}
			if d, _ := e["detail"].(string); !strings.Contains(d, "narrow the filter") {
				t.Errorf("%s %s: detail %q does not say what to do", tc.method, tc.path, d)
			}
		}

		// The store answers the next, cheap, query.
		f, err := filter.Parse(`userName eq "user7"`, users)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := a.st.List(ctx, a.dir.ID, store.Query{Type: users, Filter: f}); err != nil || p.Total != 1 {
			t.Errorf("a userName eq after the refusals: totalResults %d, %v; want 1", p.Total, err)
		}
		resp, err := a.http.Get(a.root + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "roster_queries_over_budget_total 4\n") {
			t.Errorf("/metrics does not count 4 queries over budget:\n%s", grepLines(string(body), "over_budget"))
		}
	})
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// slowPages is a store whose list of users takes a while after its
// selection, as reading the page's groups can: time Query.Budget does not
// count.
type slowPages struct {
	store.Store
	after time.Duration
}

func (s slowPages) List(ctx context.Context, dir string, q store.Query) (store.Page, error) {
	p, err := s.Store.List(ctx, dir, q)
	if err == nil && q.Count > 0 && q.Type.Name == "User" {
		time.Sleep(s.after)
	}
	return p, err
}

// TestASearchChargesOnlyTheSelections: POST /.search lists users, then
// groups, under one budget, of which it spends the time of each list's
// selection only: the time a page of users takes to read its groups
// after its selection leaves the groups' selection its budget.
func TestASearchChargesOnlyTheSelections(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		for i := range 3 {
			a.create(t, "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": fmt.Sprintf("user%d", i)})
			a.create(t, "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": fmt.Sprintf("group%d", i)})
		}
		const budget = 100 * time.Millisecond
		srv := httptest.NewServer(server.New(server.Config{Store: slowPages{a.st, 3 * budget}, QueryBudget: budget, RateLimit: -1}))
		defer srv.Close()
		b := *a
		b.root, b.base, b.http = srv.URL, srv.URL+"/scim/v2", srv.Client()
		// A filter, as the budget bounds filtered lists: every user and group.
		lr := b.must(t, http.StatusOK, "POST", "/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
			"filter": "id pr", "count": 10})
		if total := fmt.Sprint(lr["totalResults"]); total != "6" {
			t.Errorf("totalResults %v, want 6", lr["totalResults"])
		}
	})
}

// budgets is a store that records the Budget of each list and the time
// its selection took.
type budgets struct {
	store.Store
	mu    sync.Mutex
	calls []struct{ budget, spent time.Duration }
}

func (b *budgets) List(ctx context.Context, dir string, q store.Query) (store.Page, error) {
	p, err := b.Store.List(ctx, dir, q)
	b.mu.Lock()
	b.calls = append(b.calls, struct{ budget, spent time.Duration }{q.Budget, p.Spent})
	b.mu.Unlock()
	return p, err
}

// TestASearchSpendsOneBudget: POST /.search gives each of its lists what
// the ones before it left of the budget, each having spent the time its
// selection took.
func TestASearchSpendsOneBudget(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		a.create(t, "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "ann"})
		a.create(t, "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "eng"})
		const budget = time.Hour
		rec := &budgets{Store: a.st}
		srv := httptest.NewServer(server.New(server.Config{Store: rec, QueryBudget: budget, RateLimit: -1}))
		defer srv.Close()
		b := *a
		b.root, b.base, b.http = srv.URL, srv.URL+"/scim/v2", srv.Client()
		b.must(t, http.StatusOK, "POST", "/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "count": 10})
		if len(rec.calls) != 4 { // the total of each type, then a page of each
			t.Fatalf("%d lists, want 4: %v", len(rec.calls), rec.calls)
		}
		left := budget
		for i, c := range rec.calls {
			if c.budget != left {
				t.Errorf("list %d: budget %v, want %v", i, c.budget, left)
			}
			if c.spent <= 0 {
				t.Errorf("list %d: Page.Spent %v, want the time of its selection", i, c.spent)
			}
			left -= c.spent
		}
	})
}
