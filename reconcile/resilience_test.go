package reconcile_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/reconcile/source"
)

// flakyProxy is a reverse proxy in front of a Roster server that fails
// requests before they reach it: every Nth write (429 or 503 in turn) and
// every Mth read (503), each distinct request at most once so that a retry
// gets through, and for good every request that broken matches (400).
type flakyProxy struct {
	target http.Handler

	mu         sync.Mutex
	everyWrite int // 0: none
	everyRead  int
	retryAfter string // of the 429s
	broken     func(method, path string, body []byte) bool
	writes     int // write requests seen
	reads      int
	failedOnce map[string]bool
	failed     int // requests failed with 429 or 503
	refused    int // requests failed with 400
}

func newFlakyProxy(t *testing.T, rosterURL string) (*flakyProxy, string) {
	t.Helper()
	u, err := url.Parse(rosterURL)
	if err != nil {
		t.Fatal(err)
	}
	target := httputil.NewSingleHostReverseProxy(u)
	target.Transport = testTransport(t)
	p := &flakyProxy{target: target, failedOnce: map[string]bool{}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func (p *flakyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	status, retryAfter := p.decide(r.Method, r.URL.Path, body)
	if status == 0 {
		p.target.ServeHTTP(w, r)
		return
	}
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"%d","detail":"the proxy says no"}`, status)
}

// decide returns the status to fail a request with, 0 to pass it on.
func (p *flakyProxy) decide(method, path string, body []byte) (status int, retryAfter string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken != nil && p.broken(method, path, body) {
		p.refused++
		return http.StatusBadRequest, ""
	}
	key := method + " " + path + " " + string(body)
	n, every := &p.reads, p.everyRead
	if method != http.MethodGet {
		n, every = &p.writes, p.everyWrite
	}
	*n++
	if every == 0 || *n%every != 0 || p.failedOnce[key] {
		return 0, ""
	}
	p.failedOnce[key] = true
	p.failed++
	if method != http.MethodGet && p.failed%2 == 1 {
		return http.StatusTooManyRequests, p.retryAfter
	}
	return http.StatusServiceUnavailable, ""
}

func (p *flakyProxy) set(fn func(p *flakyProxy)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p)
}

func (p *flakyProxy) counts() (writes, failed, refused int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.writes, p.failed, p.refused
}

// directory returns a source of n users in four groups, the last nested
// in the first.
func directory(n int) *memSource {
	users := people(n)
	return &memSource{snap: source.Snapshot{Users: users, Groups: []source.Group{
		{ID: "g0", Name: "Everyone", Members: userIDs(users, 0, n)},
		{ID: "g1", Name: "First half", Members: userIDs(users, 0, n/2)},
		{ID: "g2", Name: "Second half", Members: userIDs(users, n/2, n)},
		{ID: "g3", Name: "A few", Members: userIDs(users, 0, 3), Parent: "g0"},
	}}}
}

// checkTarget fails unless the target's active users are src's, and its
// groups hold src's members, read directly (not through the proxy).
func checkTarget(t *testing.T, c *client.Client, src *memSource) {
	t.Helper()
	ctx := context.Background()
	var names []string
	for u, err := range c.Users.All(ctx, client.Query{}) {
		if err != nil {
			t.Fatal(err)
		}
		if u.Active == nil || *u.Active {
			names = append(names, u.UserName)
		}
	}
	var want []string
	for _, u := range src.snap.Users {
		want = append(want, source.Get(u.Attributes, "mail"))
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("the target's users: %v, want %v", names, want)
	}
	for _, g := range src.snap.Groups {
		members := memberNames(t, c, g.Name)
		wantN := len(g.Members)
		for _, child := range src.snap.Groups {
			if child.Parent == g.ID {
				wantN++
			}
		}
		if len(members) != wantN {
			t.Fatalf("group %s has %d members, want %d", g.Name, len(members), wantN)
		}
	}
}

func TestSyncConvergesThroughTransientFailures(t *testing.T) {
	rosterURL, token := startRoster(t)
	proxy, proxyURL := newFlakyProxy(t, rosterURL)
	proxy.set(func(p *flakyProxy) { p.everyWrite, p.everyRead, p.retryAfter = 3, 4, "0" })
	src := directory(40)
	e, _ := newEngine(t, proxyURL, token, src, client.WithRetries(5, time.Millisecond, 20*time.Millisecond))
	e.Policy.RetireGroups = reconcile.RetireDelete
	direct, err := client.New(rosterURL+"/scim/v2", client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}

	// The initial load, through a 429 or 503 for every third write and a
	// 503 for every fourth read.
	p := mustSync(t, e)
	if p.Counts.Create != 40 || p.Counts.GroupCreate != 4 {
		t.Fatalf("plan %+v", p.Counts)
	}
	if _, failed, _ := proxy.counts(); failed < 10 {
		t.Fatalf("the proxy failed only %d requests", failed)
	}
	checkTarget(t, direct, src)

	// Changes, through the same failures: an email, a leaver, a hire, a
	// moved user, a renamed group, a retired one.
	src.snap.Users[1].Attributes["mail"] = []string{"changed@example.com"}
	src.snap.Users = append(src.snap.Users[1:], person("u40", "new@example.com", "New", "Hire", true))
	src.snap.Groups[0].Members = userIDs(src.snap.Users, 0, 40)
	src.snap.Groups[1].Members = userIDs(src.snap.Users, 0, 10)
	src.snap.Groups[2].Name = "Rest"
	src.snap.Groups[2].Members = userIDs(src.snap.Users, 10, 40)
	src.snap.Groups = src.snap.Groups[:3]
	mustSync(t, e)
	checkTarget(t, direct, src)

	// Converged: a run writes nothing, not even a request that fails.
	before, _, _ := proxy.counts()
	if p := mustSync(t, e); p.Counts.Writes() != 0 {
		t.Fatalf("a converged run: plan %+v", p.Counts)
	}
	if after, _, _ := proxy.counts(); after != before {
		t.Fatalf("a converged run sent %d writes", after-before)
	}
}

func TestRetryAfterLongerThanTheBackoffIsLeftToTheNextRun(t *testing.T) {
	rosterURL, token := startRoster(t)
	proxy, proxyURL := newFlakyProxy(t, rosterURL)
	// Retry-After: 1 is more than the client's 20 ms longest backoff: the
	// client gives up on those requests at once, and the engine reports
	// them and goes on.
	proxy.set(func(p *flakyProxy) { p.everyWrite, p.retryAfter = 5, "1" })
	src := directory(30)
	e, _ := newEngine(t, proxyURL, token, src, client.WithRetries(5, time.Millisecond, 20*time.Millisecond))
	direct, err := client.New(rosterURL+"/scim/v2", client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	_, res := syncOnce(t, e)
	if len(res.Failed) == 0 {
		t.Fatal("no failures reported")
	}
	for _, f := range res.Failed {
		if !strings.Contains(f.Err, "429") && !strings.Contains(f.Err, "was not created") {
			t.Errorf("failure %+v: want a 429, or a member the 429 kept from being created", f)
		}
	}
	// Later runs retry what failed; each distinct request fails at most
	// once, so a few runs converge.
	for run := 2; len(res.Failed) > 0; run++ {
		if run > 6 {
			t.Fatalf("still failing after %d runs: %+v", run-1, res.Failed)
		}
		_, res = syncOnce(t, e)
	}
	checkTarget(t, direct, src)
	if p := mustSync(t, e); p.Counts.Writes() != 0 {
		t.Fatalf("a converged run: plan %+v", p.Counts)
	}
}

func TestPermanentFailureIsReportedAndRetried(t *testing.T) {
	ctx := context.Background()
	rosterURL, token := startRoster(t)
	proxy, proxyURL := newFlakyProxy(t, rosterURL)
	graceFails := func(method, path string, body []byte) bool {
		return method == http.MethodPost && strings.HasSuffix(path, "/Users") && bytes.Contains(body, []byte("grace@example.com"))
	}
	proxy.set(func(p *flakyProxy) { p.broken = graceFails })
	f := newFixture(t) // for its source only
	e, _ := newEngine(t, proxyURL, token, f.src, client.WithRetries(5, time.Millisecond, 20*time.Millisecond))
	direct, err := client.New(rosterURL+"/scim/v2", client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}

	// Grace's create is refused: reported, with the membership it kept
	// from being added; everyone and everything else is applied.
	for run := 1; run <= 2; run++ {
		p, res := syncOnce(t, e)
		if p.Counts.Create != 4-(run-1)*3 {
			t.Fatalf("run %d: plan %+v", run, p.Counts)
		}
		var what []string
		for _, f := range res.Failed {
			what = append(what, f.What)
		}
		want := []string{"create user grace@example.com", "add grace@example.com to group Compilers"}
		if !slices.Equal(what, want) {
			t.Fatalf("run %d: failures %q, want %q", run, what, want)
		}
		if !strings.Contains(res.Failed[0].Err, "400") {
			t.Fatalf("run %d: failure %+v, want the 400", run, res.Failed[0])
		}
		if res.Done.Create != 3-(run-1)*3 {
			t.Fatalf("run %d: done %+v", run, res.Done)
		}
		// The next run tried again.
		if _, _, refused := proxy.counts(); refused != run {
			t.Fatalf("after run %d Grace's create was tried %d times", run, refused)
		}
	}
	for _, name := range []string{"ada@example.com", "alan@example.com", "edsger@example.com"} {
		if _, err := direct.Users.ByUserName(ctx, name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if got := memberNames(t, direct, "Engineering"); !slices.Equal(got, []string{"Ada Lovelace", "Alan Turing", "Compilers"}) {
		t.Fatalf("Engineering: %v", got)
	}

	// The target takes Grace again: the next run creates her and adds her
	// to her group, and then nothing is left.
	proxy.set(func(p *flakyProxy) { p.broken = nil })
	if p := mustSync(t, e); p.Counts.Create != 1 || p.Counts.MembersAdd != 1 || p.Counts.Writes() != 2 {
		t.Fatalf("the healed run: plan %+v", p.Counts)
	}
	if got := memberNames(t, direct, "Compilers"); !slices.Equal(got, []string{"Grace Hopper"}) {
		t.Fatalf("Compilers: %v", got)
	}
	if p := mustSync(t, e); p.Counts.Writes() != 0 {
		t.Fatalf("a converged run: plan %+v", p.Counts)
	}

	// Every write of one user refused (a PATCH, and the PUT the engine
	// falls back to): the others' changes still go through.
	ada, err := direct.Users.ByUserName(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	proxy.set(func(p *flakyProxy) {
		p.broken = func(method, path string, _ []byte) bool {
			return (method == http.MethodPatch || method == http.MethodPut) && strings.HasSuffix(path, "/Users/"+ada.ID)
		}
	})
	for i := range f.src.snap.Users {
		f.src.snap.Users[i].Attributes["title"] = []string{"Pioneer"}
	}
	_, res := syncOnce(t, e)
	if len(res.Failed) != 1 || res.Failed[0].What != "update user ada@example.com" || res.Done.Update != 3 {
		t.Fatalf("done %+v, failed %+v: want Ada's update alone failed", res.Done, res.Failed)
	}
	proxy.set(func(p *flakyProxy) { p.broken = nil })
	if p := mustSync(t, e); p.Counts.Update != 1 || p.Counts.Writes() != 1 {
		t.Fatalf("the retry: plan %+v, want Ada's update alone", p.Counts)
	}
	if got, _ := direct.Users.Get(ctx, ada.ID); got.Title != "Pioneer" {
		t.Fatalf("Ada after the retry: %+v", got)
	}
}

func TestAFailedReadIsNamedAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	rosterURL, token := startRoster(t)
	proxy, proxyURL := newFlakyProxy(t, rosterURL)
	src := directory(10)
	e, _ := newEngine(t, proxyURL, token, src)
	mustSync(t, e)
	src.snap.Users = src.snap.Users[:9]
	before, _, _ := proxy.counts()

	// The three reads run at once; whichever fails first is the error.
	proxy.set(func(p *flakyProxy) {
		p.broken = func(method, path string, _ []byte) bool {
			return method == http.MethodGet && strings.HasSuffix(path, "/Groups")
		}
	})
	if _, err := e.Plan(ctx); err == nil || !strings.Contains(err.Error(), "read the target") {
		t.Fatalf("a failed listing of groups: %v", err)
	}
	proxy.set(func(p *flakyProxy) { p.broken = nil })
	src.err = fmt.Errorf("ldap: connection refused")
	if _, err := e.Plan(ctx); err == nil || !strings.Contains(err.Error(), "read the source: ldap: connection refused") {
		t.Fatalf("a failed source: %v", err)
	}
	if after, _, _ := proxy.counts(); after != before {
		t.Fatalf("failed reads wrote %d times", after-before)
	}
}
