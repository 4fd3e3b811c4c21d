package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
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
		for i := range 10 {
			r := resource.New(users)
			r.Attrs["userName"] = fmt.Sprintf("user%d", i)
			emails := make([]any, 100)
			for j := range emails {
				emails[j] = map[string]any{"value": fmt.Sprintf("u%d.%d@example.com", i, j), "type": "work"}
			}
			r.Attrs["emails"] = emails
			if _, err := a.st.Create(ctx, a.dir.ID, r); err != nil {
				t.Fatal(err)
			}
		}
		terms := make([]string, filter.MaxComparisons)
		for i := range terms {
			terms[i] = fmt.Sprintf(`emails[value co "nobody%d"]`, i)
		}
		expensive := strings.Join(terms, " or ")
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
