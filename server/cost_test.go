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

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/postgres"
	"github.com/rosterhq/roster/store/sqlite"
	"github.com/rosterhq/roster/store/storetest"
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

// TestARequestCancelledMidQueryStopsUsingCPU: when a client gives up on
// a list whose query takes seconds, the query stops: in this process on
// SQLite (its CPU time stops growing), on the database server on
// PostgreSQL (the backend is idle again).
func TestARequestCancelledMidQueryStopsUsingCPU(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		ctx := context.Background()
		onPostgres := strings.HasSuffix(t.Name(), "/postgres")
		var st store.Store
		var err error
		var url string
		if onPostgres {
			url = pgtest.New(t)
			st, err = postgres.Open(ctx, url)
		} else {
			st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
		}
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		dir, q := storetest.ExpensiveList(t, st)
		_, token, err := st.CreateToken(ctx, dir, "test", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(server.New(server.Config{Store: st, RateLimit: -1}))
		defer ts.Close()

		client := &http.Client{Timeout: 100 * time.Millisecond}
		req, _ := http.NewRequest("GET", ts.URL+server.BasePath+"/Users"+query("filter", q.Filter.String()), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("the expensive list answered %d within 100 ms; make it more expensive", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond) // for the server to see the connection close
		if onPostgres {
			waitIdle(t, url)
			return
		}
		before, ok := cpuTime()
		if !ok {
			t.Skip("no CPU time of the process on this system")
		}
		time.Sleep(time.Second)
		if after, _ := cpuTime(); after-before > 300*time.Millisecond {
			used := after - before
			t.Fatalf("the process used %v of CPU in the second after the client gave up; the query goes on", used)
		}
	})
}

// waitIdle fails the test unless, within a second, no backend of the
// database at url but the caller's runs a query.
func waitIdle(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(time.Second)
	for {
		var active int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`).Scan(&active); err != nil {
			t.Fatal(err)
		}
		if active == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a second after the client gave up, the database still runs %d queries", active)
		}
		time.Sleep(20 * time.Millisecond)
	}
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
