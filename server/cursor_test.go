package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/server"
)

func TestCursorPaginationWalksEveryUserOnce(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		var ids []string
		for i := range 23 {
			ids = append(ids, a.create(t, "/Users", fmt.Sprintf(`{"userName":"user%02d"}`, i))["id"].(string))
		}
		seen := map[string]int{}
		cursor, pages := "", 0
		for {
			lr := a.must(t, 200, "GET", "/Users"+query("cursor", cursor, "count", "10"), nil)
			if _, ok := lr["startIndex"]; ok {
				t.Fatalf("a cursor page has startIndex: %v", lr)
			}
			for _, r := range lr["Resources"].([]any) {
				seen[r.(map[string]any)["id"].(string)]++
			}
			pages++
			if pages == 1 {
				a.must(t, 204, "DELETE", "/Users/"+ids[15], nil) // ahead of the cursor
			}
			next, _ := lr["nextCursor"].(string)
			if next == "" {
				break
			}
			cursor = next
			if pages > 5 {
				t.Fatal("the walk does not end")
			}
		}
		if pages != 3 {
			t.Errorf("%d pages of 10 for 22 users, want 3", pages)
		}
		for i, id := range ids {
			if want := map[bool]int{true: 0, false: 1}[i == 15]; seen[id] != want {
				t.Errorf("user%02d seen %d times, want %d", i, seen[id], want)
			}
		}
		// The same walk through .search.
		lr := a.must(t, 200, "POST", "/Users/.search", map[string]any{"schemas": []string{scim.SearchRequestURN}, "cursor": "", "count": 5})
		if lr["nextCursor"] == nil || len(lr["Resources"].([]any)) != 5 {
			t.Fatalf(".search with a cursor: %v", lr)
		}
	})
}

func TestBadCursorsAreRefused(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{CursorTimeout: time.Second})
		for i := range 3 {
			a.create(t, "/Users", fmt.Sprintf(`{"userName":"user%d"}`, i))
		}
		lr := a.must(t, 200, "GET", "/Users"+query("cursor", "", "count", "1", "filter", `userName sw "user"`), nil)
		next := lr["nextCursor"].(string)
		payload, sig, _ := strings.Cut(next, ".")
		for name, c := range map[string]string{
			"garbage":       "not-a-cursor",
			"a forged one":  payload + "." + strings.Repeat("A", len(sig)),
			"a damaged one": "x" + next,
		} {
			t.Run(name, func(t *testing.T) {
				a.mustFail(t, 400, scim.InvalidCursor, "GET", "/Users"+query("cursor", c, "count", "1", "filter", `userName sw "user"`), nil)
			})
		}
		// A cursor is bound to its filter and its directory.
		a.mustFail(t, 400, scim.InvalidCursor, "GET", "/Users"+query("cursor", next, "count", "1"), nil)
		b := a.tenant(t, "globex")
		b.mustFail(t, 400, scim.InvalidCursor, "GET", "/Users"+query("cursor", next, "count", "1", "filter", `userName sw "user"`), nil)
		// Cursors and sortBy or startIndex do not mix.
		a.mustFail(t, 400, scim.InvalidValue, "GET", "/Users"+query("cursor", "", "sortBy", "userName"), nil)
		// An expired cursor.
		time.Sleep(2100 * time.Millisecond)
		a.mustFail(t, 400, scim.ExpiredCursor, "GET", "/Users"+query("cursor", next, "count", "1", "filter", `userName sw "user"`), nil)
	})
}
