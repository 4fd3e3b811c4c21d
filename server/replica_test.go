package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store/postgres"
)

// replicas starts n servers, each with its own connection pool, on the
// PostgreSQL database dbURL, as n `roster serve` processes behind a load
// balancer would be, and returns a client of one new directory for each.
func replicas(t *testing.T, dbURL string, n int) (apis []*api) {
	t.Helper()
	ctx := context.Background()
	var first *api
	for i := range n {
		st, err := postgres.Open(ctx, dbURL)
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { st.Close() })
		srv := httptest.NewServer(server.New(server.Config{Store: st, PasswordIterations: 1000, RateLimit: -1,
			Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}))
		t.Cleanup(srv.Close)
		a := &api{root: srv.URL, base: srv.URL + "/scim/v2", st: st, http: &http.Client{Transport: srv.Client().Transport, Timeout: 60 * time.Second}}
		if first == nil {
			first = a.tenant(t, "acme")
			a = first
		} else {
			a.dir, a.token = first.dir, first.token
		}
		apis = append(apis, a)
	}
	return apis
}

// TestReplicasCreateOneUserName sends the same POST through three servers
// at once: exactly one creates the user, the others answer 409.
func TestReplicasCreateOneUserName(t *testing.T) {
	t.Parallel()
	apis := replicas(t, pgtest.Shared(t), 3)
	const n = 30
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := apis[i%len(apis)].send("POST", "/Users", fmt.Sprintf(`{"userName": "%s"}`,
				[]string{"Alice", "alice", "ALICE"}[i%3]))
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i] = r.Status
			if r.Status != 201 && r.Status != 409 {
				t.Errorf("%v", r)
			}
		})
	}
	wg.Wait()
	if created := count(statuses, 201); created != 1 || count(statuses, 409) != n-1 {
		t.Fatalf("statuses %v: want one 201 and %d 409", statuses, n-1)
	}
	lr := apis[0].must(t, 200, "GET", "/Users?filter="+url.QueryEscape(`userName eq "alice"`), nil)
	if fmt.Sprint(lr["totalResults"]) != "1" {
		t.Fatalf("%v users called alice: %v", lr["totalResults"], lr)
	}
}

func count(xs []int, x int) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

// TestReplicasPatchOneGroup adds and removes members of one group through
// two servers at once, one PATCH per member, each in its own request; the
// final membership is exactly the expected set: no change is lost.
func TestReplicasPatchOneGroup(t *testing.T) {
	t.Parallel()
	apis := replicas(t, pgtest.Shared(t), 2)
	a := apis[0]
	const n = 40
	ids := make([]string, n)
	for i := range n {
		ids[i] = a.create(t, "/Users", fmt.Sprintf(`{"userName": "user%d"}`, i))["id"].(string)
	}
	// The group starts with the odd users; the even ones are added and the
	// odd ones below 20 removed, concurrently, through both servers.
	var initial []map[string]any
	for i := 1; i < n; i += 2 {
		initial = append(initial, map[string]any{"value": ids[i]})
	}
	g := a.create(t, "/Groups", map[string]any{"displayName": "Engineering", "members": initial})["id"].(string)
	var want []string
	var wg sync.WaitGroup
	for i := range n {
		var op map[string]any
		switch {
		case i%2 == 0:
			op = map[string]any{"op": "add", "path": "members", "value": []map[string]any{{"value": ids[i]}}}
			want = append(want, ids[i])
		case i < 20:
			op = map[string]any{"op": "remove", "path": fmt.Sprintf(`members[value eq "%s"]`, ids[i])}
		default:
			want = append(want, ids[i])
			continue
		}
		wg.Go(func() {
			body := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []any{op}}
			r, err := apis[i%len(apis)].send("PATCH", "/Groups/"+g, body)
			if err != nil {
				t.Error(err)
				return
			}
			if r.Status != 200 && r.Status != 204 {
				t.Errorf("%v", r)
			}
		})
	}
	wg.Wait()
	got := memberIDs(t, apis[1], g)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("members %v\nwant %v", got, want)
	}
	// The version counts every change: 20 adds and 10 removes.
	if v := apis[1].must(t, 200, "GET", "/Groups/"+g+"?excludedAttributes=members", nil)["meta"].(map[string]any)["version"]; v != `W/"31"` {
		t.Errorf("version %v, want W/\"31\" after 30 changes", v)
	}
}

func memberIDs(t *testing.T, a *api, group string) []string {
	t.Helper()
	g := a.must(t, 200, "GET", "/Groups/"+group, nil)
	ms, _ := g["members"].([]any)
	var out []string
	for _, m := range ms {
		out = append(out, m.(map[string]any)["value"].(string))
	}
	slices.Sort(out)
	return out
}

// TestReplicasIfMatch updates one user through two servers with the same
// If-Match: one update wins, the other gets 412, and the stored user is
// the winner's.
func TestReplicasIfMatch(t *testing.T) {
	t.Parallel()
	apis := replicas(t, pgtest.Shared(t), 2)
	u := apis[0].create(t, "/Users", `{"userName": "bjensen", "title": "Intern"}`)
	id, version := u["id"].(string), u["meta"].(map[string]any)["version"].(string)
	for round := range 10 {
		titles := []string{fmt.Sprintf("A%d", round), fmt.Sprintf("B%d", round)}
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i, a := range apis {
			wg.Go(func() {
				var r *response
				var err error
				if i == 0 {
					r, err = a.send("PUT", "/Users/"+id, fmt.Sprintf(`{"userName": "bjensen", "title": "%s"}`, titles[i]), "If-Match", version)
				} else {
					r, err = a.send("PATCH", "/Users/"+id, fmt.Sprintf(`{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
						"Operations": [{"op": "replace", "path": "title", "value": "%s"}]}`, titles[i]), "If-Match", version)
				}
				if err != nil {
					t.Error(err)
					return
				}
				statuses[i] = r.Status
			})
		}
		wg.Wait()
		slices.Sort(statuses)
		if statuses[0] != 200 || statuses[1] != 412 {
			t.Fatalf("round %d: statuses %v, want one 200 and one 412", round, statuses)
		}
		u = apis[round%2].must(t, 200, "GET", "/Users/"+id, nil)
		if !slices.Contains(titles, u["title"].(string)) {
			t.Fatalf("round %d: title %v", round, u["title"])
		}
		next := u["meta"].(map[string]any)["version"].(string)
		if next == version {
			t.Fatalf("round %d: the version did not change", round)
		}
		version = next
	}
}

// TestReplicasShareCursorsAndTokens: a cursor one server hands out works on
// another, and a token's last use is recorded whichever server sees it.
func TestReplicasShareCursorsAndTokens(t *testing.T) {
	t.Parallel()
	apis := replicas(t, pgtest.Shared(t), 2)
	for i := range 5 {
		apis[0].create(t, "/Users", fmt.Sprintf(`{"userName": "user%d"}`, i))
	}
	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		lr := apis[page%2].must(t, 200, "GET", "/Users?count=2&cursor="+url.QueryEscape(cursor), nil)
		for _, r := range lr["Resources"].([]any) {
			seen = append(seen, r.(map[string]any)["userName"].(string))
		}
		next, _ := lr["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if want := []string{"user0", "user1", "user2", "user3", "user4"}; !slices.Equal(seen, want) {
		t.Fatalf("a cursor walk across replicas saw %v, want %v", seen, want)
	}
	toks, err := apis[1].st.Tokens(context.Background(), apis[0].dir.ID)
	if err != nil || len(toks) != 1 || toks[0].LastUsed.IsZero() {
		t.Fatalf("tokens %+v, %v: want one, used", toks, err)
	}
}

// TestReplicaSurvivesDatabaseOutage takes the database away from a
// running server (no new connections, existing ones terminated): requests
// get 503 with a SCIM error and /readyz is not ready; when the database is
// back, the server recovers by itself.
func TestReplicaSurvivesDatabaseOutage(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t) // its own: the test takes it away
	apis := replicas(t, dbURL, 1)
	a := apis[0]
	u := a.create(t, "/Users", `{"userName": "bjensen"}`)
	id := u["id"].(string)

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	parsed, _ := url.Parse(dbURL)
	db := strings.TrimPrefix(parsed.Path, "/")
	exec := func(sql string) {
		t.Helper()
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`ALTER DATABASE ` + db + ` ALLOW_CONNECTIONS false`)
	t.Cleanup(func() { admin.Exec(ctx, `ALTER DATABASE `+db+` ALLOW_CONNECTIONS true`) })
	exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '` + db + `'`)

	for _, path := range []string{"/Users/" + id, "/Users", "/Groups"} {
		r := a.do(t, "GET", path, nil)
		r.mustFail(t, 503, "")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("%v: no Retry-After", r)
		}
	}
	a.mustFail(t, 503, "", "POST", "/Users", `{"userName": "jsmith"}`)
	if r := a.do(t, "GET", a.root+"/readyz", nil); r.Status != 503 {
		t.Errorf("/readyz during the outage: %v", r)
	}

	exec(`ALTER DATABASE ` + db + ` ALLOW_CONNECTIONS true`)
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := a.do(t, "GET", "/Users/"+id, nil)
		if r.Status == 200 {
			break
		}
		if r.Status != 503 || time.Now().After(deadline) {
			t.Fatalf("after the outage: %v", r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := a.do(t, "GET", a.root+"/readyz", nil); r.Status != 200 {
		t.Errorf("/readyz after the outage: %v", r)
	}
	a.create(t, "/Users", `{"userName": "jsmith"}`)
}
