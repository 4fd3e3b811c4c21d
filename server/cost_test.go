package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/postgres"
	"github.com/rosterhq/roster/store/sqlite"
)

// What a request may cost (issue 11).

// TestLongFilterValuesAreRefused: a filter value over
// filter.MaxStringBytes is a 400 invalidFilter on every filtered
// endpoint, and one at the bound is answered.
func TestLongFilterValuesAreRefused(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		a.create(t, "/Users", `{"userName":"ann"}`)
		long := strings.Repeat("A", filter.MaxStringBytes+1)
		for _, tt := range []struct{ method, path, filter string }{
			{"GET", "/Users", `userName eq "` + long + `"`},
			{"GET", "/Groups", `displayName eq "` + long + `"`},
			{"POST", "/Users/.search", `userName eq "ann" or emails[value eq "` + long + `"]`},
			{"POST", "/.search", `userName sw "` + long + `"`},
		} {
			if tt.method == "GET" {
				a.mustFail(t, 400, scim.InvalidFilter, "GET", tt.path+query("filter", tt.filter), nil)
				continue
			}
			a.mustFail(t, 400, scim.InvalidFilter, "POST", tt.path, map[string]any{"schemas": []string{scim.SearchRequestURN}, "filter": tt.filter})
		}
		if total, _ := a.list(t, "/Users"+query("filter", `userName eq "`+long[1:]+`"`)); total != 0 {
			t.Fatalf("a value of %d bytes found %d users, want 0", filter.MaxStringBytes, total)
		}
	})
}

// BenchmarkAMegabyteFilterValue measures a search whose filter holds a
// userName of a megabyte, as a .search body can, over loopback HTTP on
// each store: the server refuses it before the store sees it.
func BenchmarkAMegabyteFilterValue(b *testing.B) {
	ctx := context.Background()
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			var st store.Store
			var err error
			if kind == "sqlite" {
				st, err = sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
			} else {
				st, err = postgres.Open(ctx, pgtest.New(b))
			}
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			dir, err := st.CreateDirectory(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			_, token, err := st.CreateToken(ctx, dir.ID, "bench", time.Time{})
			if err != nil {
				b.Fatal(err)
			}
			ts := httptest.NewServer(server.New(server.Config{Store: st, RateLimit: -1}))
			defer ts.Close()
			body, _ := json.Marshal(map[string]any{"schemas": []string{scim.SearchRequestURN},
				"filter": `userName eq "` + strings.Repeat("A", 1_000_000) + `"`})
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				req, _ := http.NewRequest("POST", ts.URL+server.BasePath+"/Users/.search", strings.NewReader(string(body)))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/scim+json")
				resp, err := ts.Client().Do(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest {
					b.Fatalf("status %d, want 400", resp.StatusCode)
				}
			}
		})
	}
}
