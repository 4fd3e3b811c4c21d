package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
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
//
// It measures the CPU time of the whole process, so it is not parallel,
// and runs its two stores one after the other, not through forEachStore:
// another test's work would count as the query's.
func TestARequestCancelledMidQueryStopsUsingCPU(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
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

			client := &http.Client{Transport: ts.Client().Transport, Timeout: 100 * time.Millisecond}
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
// each store: the server refuses it before the store sees it. Beside it,
// for scale, a search of a short filter in a body padded to the same size
// with blanks, which the server answers: reading and decoding a megabyte
// is most of either.
func BenchmarkAMegabyteFilterValue(b *testing.B) {
	ctx := context.Background()
	for _, kind := range []string{"sqlite", "postgres"} {
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
		long, _ := json.Marshal(map[string]any{"schemas": []string{scim.SearchRequestURN},
			"filter": `userName eq "` + strings.Repeat("A", 1_000_000) + `"`})
		short, _ := json.Marshal(map[string]any{"schemas": []string{scim.SearchRequestURN}, "filter": `userName eq "ann"`})
		short = append(short[:len(short)-1], append(bytes.Repeat([]byte(" "), len(long)-len(short)), '}')...)
		for _, bm := range []struct {
			name string
			body []byte
			want int
		}{
			{kind + "/a value of 1 MB", long, http.StatusBadRequest},
			{kind + "/for scale: a short filter in 1 MB", short, http.StatusOK},
		} {
			b.Run(bm.name, func(b *testing.B) {
				b.SetBytes(int64(len(bm.body)))
				for b.Loop() {
					req, _ := http.NewRequest("POST", ts.URL+server.BasePath+"/Users/.search", bytes.NewReader(bm.body))
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Content-Type", "application/scim+json")
					resp, err := ts.Client().Do(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != bm.want {
						b.Fatalf("status %d, want %d", resp.StatusCode, bm.want)
					}
				}
			})
		}
	}
}

// countingHasher is a Config.HashPassword that counts its calls.
type countingHasher struct{ calls atomic.Int64 }

func (h *countingHasher) hash(pw string) (string, error) {
	h.calls.Add(1)
	return "hashed:" + pw, nil
}

// TestBulkHashesOnlyPasswordsThatAreStored: a bulk request of a thousand
// creates of one userName with a password hashes one password, not a
// thousand (each costs a tenth of a second of CPU), and neither does a
// PUT or PATCH of a resource that does not exist, nor a create of a name
// taken in another case.
func TestBulkHashesOnlyPasswordsThatAreStored(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		h := &countingHasher{}
		a := newAPI(t, server.Config{HashPassword: h.hash})
		ops := make([]map[string]any, 0, 1000)
		for i := range 997 {
			ops = append(ops, map[string]any{"method": "POST", "path": "/Users", "bulkId": fmt.Sprint(i),
				"data": map[string]any{"userName": []string{"ann", "ANN"}[i%2], "password": "secret"}})
		}
		ops = append(ops,
			map[string]any{"method": "PUT", "path": "/Users/nobody", "data": map[string]any{"userName": "bob", "password": "secret"}},
			map[string]any{"method": "PATCH", "path": "/Users/nobody", "data": map[string]any{"schemas": []string{scim.PatchOpURN},
				"Operations": []map[string]any{{"op": "replace", "path": "password", "value": "secret"}}}},
			map[string]any{"method": "PATCH", "path": "/Users/nobody", "data": map[string]any{"schemas": []string{scim.PatchOpURN},
				"Operations": []map[string]any{{"op": "replace", "value": map[string]any{"password": "secret"}}}}},
		)
		out := a.must(t, 200, "POST", "/Bulk", map[string]any{"schemas": []string{scim.BulkRequestURN}, "Operations": ops})
		statuses := map[string]int{}
		for _, o := range out["Operations"].([]any) {
			statuses[fmt.Sprint(o.(map[string]any)["status"])]++
		}
		if statuses["201"] != 1 || statuses["409"] != 996 || statuses["404"] != 3 {
			t.Fatalf("statuses %v; want one 201, 996 409 and three 404", statuses)
		}
		if n := h.calls.Load(); n != 1 {
			t.Fatalf("the bulk request hashed %d passwords; want 1, the one stored", n)
		}
		// The stored password is the hasher's.
		lr := a.must(t, 200, "GET", "/Users", nil)
		if total := fmt.Sprint(lr["totalResults"]); total != "1" {
			t.Fatalf("%s users, want ann alone", total)
		}
	})
}

// TestABulkOperationCostsARequest: each operation of a bulk request takes
// a token of the rate limit, as a request of its own would. A bulk request
// of the burst's size leaves nothing for the next request; operations
// beyond it wait for their tokens, and when the client stops waiting the
// server stops too: they are not carried out.
func TestABulkOperationCostsARequest(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		// Ten requests at once, then one every 1,000 seconds.
		a := newAPI(t, server.Config{RateLimit: 0.001, RateBurst: 10})
		creates := func(names ...string) map[string]any {
			ops := make([]map[string]any, len(names))
			for i, n := range names {
				ops[i] = map[string]any{"method": "POST", "path": "/Users", "bulkId": n, "data": map[string]any{"userName": n}}
			}
			return map[string]any{"schemas": []string{scim.BulkRequestURN}, "Operations": ops}
		}
		a.must(t, 200, "POST", "/Bulk", creates("u1", "u2", "u3", "u4", "u5", "u6", "u7"))
		a.must(t, 200, "GET", "/Users", nil) // the eighth token
		impatient := *a
		impatient.http = &http.Client{Transport: a.http.Transport, Timeout: 500 * time.Millisecond}
		if r, err := impatient.send("POST", "/Bulk", creates("u8", "u9", "u10", "u11")); err == nil {
			t.Fatalf("a bulk request of four operations with two tokens left answered %v; want it to wait", r)
		}
		time.Sleep(200 * time.Millisecond) // for the server to see the client go
		page, err := a.st.List(context.Background(), a.dir.ID, store.Query{Type: schema.NewRegistry().ResourceType("User")})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 9 {
			t.Fatalf("%d users; want 9: the operations that found no token were not carried out", page.Total)
		}
		a.mustFail(t, 429, "", "GET", "/Users", nil)
	})
}

// TestPasswordsAreHashedOneAtATime: with PasswordHashers 1, a request
// that sets a password waits while another's is hashed, and hashes
// nothing if its client stops waiting first.
func TestPasswordsAreHashedOneAtATime(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		entered, release := make(chan string, 10), make(chan struct{})
		hasher := func(pw string) (string, error) {
			entered <- pw
			<-release
			return "hashed:" + pw, nil
		}
		a := newAPI(t, server.Config{HashPassword: hasher, PasswordHashers: 1})
		var once sync.Once
		releaseAll := func() { once.Do(func() { close(release) }) }
		t.Cleanup(releaseAll) // before the server closes, should the test fail
		first := make(chan *response, 1)
		go func() {
			r, err := a.send("POST", "/Users", `{"userName":"ann","password":"first"}`)
			if err != nil {
				t.Error(err)
			}
			first <- r
		}()
		if pw := <-entered; pw != "first" {
			t.Fatalf("hashed %q, want first", pw)
		}
		impatient := *a
		impatient.http = &http.Client{Transport: a.http.Transport, Timeout: 300 * time.Millisecond}
		if r, err := impatient.send("POST", "/Users", `{"userName":"bob","password":"second"}`); err == nil {
			t.Fatalf("a create while another password is hashed answered %v; want it to wait", r)
		}
		select {
		case pw := <-entered:
			t.Fatalf("hashed %q while another was hashed", pw)
		case <-time.After(100 * time.Millisecond):
		}
		releaseAll()
		if r := <-first; r == nil || r.Status != http.StatusCreated {
			t.Fatalf("the first create: %v", r)
		}
		select {
		case pw := <-entered:
			t.Fatalf("hashed %q for a client that had gone", pw)
		case <-time.After(200 * time.Millisecond):
		}
		if total, _ := a.list(t, "/Users"+query("filter", `userName eq "bob"`)); total != 0 {
			t.Fatal("bob was created for a client that had gone")
		}
	})
}
