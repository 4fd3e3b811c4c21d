package reconcile_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/reconcile/source"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store/sqlite"
)

// startRoster starts a Roster server on a fresh SQLite database and
// returns its SCIM base URL and a token, for tests that put something
// between the engine and the server.
func startRoster(t testing.TB) (baseURL, token string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d, err := st.CreateDirectory(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	_, token, err = st.CreateToken(ctx, d.ID, "sync", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{Store: st, RateLimit: -1, PasswordIterations: 1000}))
	t.Cleanup(srv.Close)
	return srv.URL, token
}

// testTransport returns a transport of t's own, for what sends requests
// through a transport it is given (a recording transport, a reverse
// proxy): a clone of http.DefaultTransport, not DefaultTransport itself,
// whose idle connections every httptest server's Close closes, failing a
// request of a parallel test that takes one at that moment. Its idle
// connections are closed when t ends.
func testTransport(t testing.TB) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// requestLog records the requests a client sends, as "METHOD /path"
// relative to the SCIM base URL's path.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
	base http.RoundTripper
}

func (l *requestLog) RoundTrip(r *http.Request) (*http.Response, error) {
	path := r.URL.Path
	if i := strings.Index(path, "/scim/v2"); i >= 0 {
		path = path[i+len("/scim/v2"):]
	}
	l.mu.Lock()
	l.reqs = append(l.reqs, r.Method+" "+path)
	l.mu.Unlock()
	return l.base.RoundTrip(r)
}

// writes returns the write requests recorded since the last call, and
// forgets all.
func (l *requestLog) writes() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.reqs {
		if !strings.HasPrefix(r, "GET ") {
			out = append(out, r)
		}
	}
	l.reqs = nil
	return out
}

// newEngine returns an engine syncing src into the server at url, through
// a client with opts, with a state file in a temporary directory (its
// path returned) and a policy that lets a test's small directory lose a
// few users at once.
func newEngine(t *testing.T, url, token string, src source.Source, opts ...client.Option) (*reconcile.Engine, string) {
	t.Helper()
	c, err := client.New(url+"/scim/v2", append([]client.Option{client.WithToken(token)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	st, err := reconcile.LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	return &reconcile.Engine{Source: src, Target: c, State: st, Policy: reconcile.Policy{MaxDeprovision: 5}}, path
}

// syncOnce plans and applies, failing the test if either fails as a
// whole; failures of single changes are in the result.
func syncOnce(t *testing.T, e *reconcile.Engine) (*reconcile.Plan, *reconcile.Result) {
	t.Helper()
	ctx := context.Background()
	p, err := e.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(ctx, p, false)
	if err != nil {
		t.Fatal(err)
	}
	return p, res
}

// mustSync is syncOnce for a run in which nothing may fail.
func mustSync(t *testing.T, e *reconcile.Engine) *reconcile.Plan {
	t.Helper()
	p, res := syncOnce(t, e)
	if len(res.Failed) > 0 {
		t.Fatalf("failures: %+v", res.Failed)
	}
	return p
}

// people returns n active users u0…u(n-1) with distinct names.
func people(n int) []source.User {
	out := make([]source.User, n)
	for i := range out {
		out[i] = person(fmt.Sprintf("u%d", i), fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("Given%d", i), fmt.Sprintf("Family%d", i), true)
	}
	return out
}

// userIDs returns the ids of users[from:to].
func userIDs(users []source.User, from, to int) []string {
	var out []string
	for _, u := range users[from:to] {
		out = append(out, u.ID)
	}
	return out
}
