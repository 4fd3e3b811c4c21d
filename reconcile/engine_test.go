package reconcile_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
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

// memSource is a source whose snapshot the test edits between runs.
type memSource struct {
	snap  source.Snapshot
	err   error
	reads int
}

func (m *memSource) Read(context.Context) (*source.Snapshot, error) {
	m.reads++
	if m.err != nil {
		return nil, m.err
	}
	s := m.snap
	return &s, nil
}

// counter counts the write requests a client sends.
type counter struct {
	mu     sync.Mutex
	writes int
	base   http.RoundTripper
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet {
		c.mu.Lock()
		c.writes++
		c.mu.Unlock()
	}
	return c.base.RoundTrip(r)
}

func (c *counter) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.writes
	c.writes = 0
	return n
}

func person(id, mail, given, sn string, active bool) source.User {
	return source.User{ID: id, Active: active, Attributes: map[string][]string{
		"mail": {mail}, "givenName": {given}, "sn": {sn}}}
}

type fixture struct {
	// url and token reach the target, for a client of a test's own.
	url, token string
	src        *memSource
	c          *client.Client
	count      *counter
	engine     *reconcile.Engine
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d, _ := st.CreateDirectory(ctx, "acme")
	_, token, _ := st.CreateToken(ctx, d.ID, "sync", time.Time{})
	srv := httptest.NewServer(server.New(server.Config{Store: st, RateLimit: -1, PasswordIterations: 1000}))
	t.Cleanup(srv.Close)
	cnt := &counter{base: testTransport(t)}
	c, err := client.New(srv.URL+"/scim/v2", client.WithToken(token), client.WithTransport(cnt))
	if err != nil {
		t.Fatal(err)
	}
	state, err := reconcile.LoadState(filepath.Join(t.TempDir(), "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	src := &memSource{snap: source.Snapshot{
		Users: []source.User{
			person("u1", "ada@example.com", "Ada", "Lovelace", true),
			person("u2", "alan@example.com", "Alan", "Turing", true),
			person("u3", "grace@example.com", "Grace", "Hopper", true),
			person("u4", "edsger@example.com", "Edsger", "Dijkstra", true),
			person("u5", "off@example.com", "Dis", "Abled", false),
		},
		Groups: []source.Group{
			{ID: "g1", Name: "Engineering", Members: []string{"u1", "u2"}},
			{ID: "g2", Name: "Compilers", Members: []string{"u3"}, Parent: "g1"},
		},
	}}
	return &fixture{url: srv.URL + "/scim/v2", token: token, src: src, c: c, count: cnt, engine: &reconcile.Engine{Source: src, Target: c, State: state, Policy: reconcile.Policy{MaxDeprovision: 2}}}
}

func (f *fixture) run(t *testing.T) (*reconcile.Plan, *reconcile.Result, int) {
	t.Helper()
	ctx := context.Background()
	p, err := f.engine.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.count.take()
	res, err := f.engine.Apply(ctx, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) > 0 {
		t.Fatalf("failures: %+v", res.Failed)
	}
	return p, res, f.count.take()
}

func (f *fixture) members(t *testing.T, name string) []string {
	t.Helper()
	g, err := f.c.Groups.ByDisplayName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	full, err := f.c.Groups.Get(context.Background(), g.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range full.Members {
		out = append(out, m.Display)
	}
	sort.Strings(out)
	return out
}

func TestSyncConverges(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)

	// Initial load: four users (the disabled one gets no account), two
	// groups, Compilers nested in Engineering.
	p, _, writes := f.run(t)
	if p.Counts.Create != 4 || p.Counts.GroupCreate != 2 || p.Counts.MembersAdd != 4 {
		t.Fatalf("initial plan counts %+v", p.Counts)
	}
	if writes != 4+2+2 { // a POST per user and group, a PATCH per group's members
		t.Fatalf("initial load made %d writes", writes)
	}
	ada, err := f.c.Users.ByUserName(ctx, "ada@example.com")
	if err != nil || ada.ExternalID != "u1" || ada.Name.GivenName != "Ada" || len(ada.Emails) != 1 || ada.DisplayName != "Ada Lovelace" {
		t.Fatalf("ada: %+v, %v", ada, err)
	}
	if got := f.members(t, "Engineering"); !slices.Equal(got, []string{"Ada Lovelace", "Alan Turing", "Compilers"}) {
		t.Fatalf("Engineering: %v", got)
	}

	// Nothing changed: no writes at all.
	if p, _, writes := f.run(t); p.Counts.Writes() != 0 || writes != 0 {
		t.Fatalf("a second run: plan %+v, %d writes", p.Counts, writes)
	}

	// The directory changes: Ada's email, Alan is disabled, Grace leaves,
	// Engineering is renamed Platform, Edsger joins Compilers.
	f.src.snap.Users[0].Attributes["mail"] = []string{"ada@new.example.com"}
	f.src.snap.Users[1].Active = false
	f.src.snap.Users = slices.Delete(f.src.snap.Users, 2, 3)
	f.src.snap.Groups[0].Name = "Platform"
	f.src.snap.Groups[1].Members = []string{"u4"}
	p, _, writes = f.run(t)
	want := reconcile.Counts{Update: 1, Deactivate: 2, Unchanged: 1, GroupRename: 1, MembersAdd: 1, MembersRemove: 1}
	if p.Counts != want {
		t.Fatalf("plan counts %+v, want %+v\n%+v", p.Counts, want, p.Users)
	}
	if writes != 1+2+1+1 { // Compilers gains Edsger and loses Grace in one PATCH
		t.Fatalf("%d writes", writes)
	}
	ada, _ = f.c.Users.Get(ctx, ada.ID)
	if ada.UserName != "ada@new.example.com" || ada.Emails[0].Value != "ada@new.example.com" {
		t.Fatalf("ada after: %+v", ada)
	}
	grace, err := f.c.Users.ByUserName(ctx, "grace@example.com")
	if err != nil || grace.Active == nil || *grace.Active {
		t.Fatalf("grace should be deactivated: %+v, %v", grace, err)
	}
	if got := f.members(t, "Compilers"); !slices.Equal(got, []string{"Edsger Dijkstra"}) {
		t.Fatalf("Compilers: %v", got)
	}

	// Converged.
	if p, _, writes := f.run(t); p.Counts.Writes() != 0 || writes != 0 {
		t.Fatalf("a converged run: plan %+v, %d writes", p.Counts, writes)
	}

	// Alan comes back: reactivated, not recreated.
	f.src.snap.Users[1].Active = true
	if p, _, _ := f.run(t); p.Counts.Reactivate != 1 || p.Counts.Create != 0 {
		t.Fatalf("reactivation plan %+v", p.Counts)
	}
}

func TestSyncSafety(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.run(t)

	// A source that fails changes nothing.
	f.src.err = errors.New("ldap: connection refused")
	if _, err := f.engine.Plan(ctx); err == nil {
		t.Fatal("a failed read gave a plan")
	}
	f.src.err = nil

	// An empty source is refused outright.
	full := f.src.snap
	f.src.snap = source.Snapshot{}
	if _, err := f.engine.Plan(ctx); err == nil {
		t.Fatal("an empty source gave a plan")
	}

	// Losing three of four users is a mass deactivation: refused unless
	// allowed.
	f.src.snap = full
	f.src.snap.Users = f.src.snap.Users[:1]
	p, err := f.engine.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Refused) == 0 {
		t.Fatalf("a mass deactivation was not refused: %+v", p.Counts)
	}
	f.count.take()
	if _, err := f.engine.Apply(ctx, p, false); !errors.Is(err, reconcile.ErrRefused) {
		t.Fatalf("Apply: %v, want ErrRefused", err)
	}
	if n := f.count.take(); n != 0 {
		t.Fatalf("a refused plan made %d writes", n)
	}

	// A user the sync did not create is never touched.
	if _, err := f.c.Users.Create(ctx, &client.User{UserName: "outsider@example.com"}); err != nil {
		t.Fatal(err)
	}
	f.src.snap = full
	if p, _, _ := f.run(t); p.Counts.Writes() != 0 {
		t.Fatalf("an outsider changed the plan: %+v", p.Counts)
	}
}

func TestSyncAdoptsByUserName(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	pre, err := f.c.Users.Create(ctx, &client.User{UserName: "ADA@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	p, _, _ := f.run(t)
	if p.Counts.Create != 3 || p.Counts.Update != 1 {
		t.Fatalf("plan %+v", p.Counts)
	}
	got, _ := f.c.Users.Get(ctx, pre.ID)
	if got.ExternalID != "u1" || got.UserName != "ada@example.com" {
		t.Fatalf("adopted user %+v", got)
	}
}

// TestSyncCreatesInBulk: with Bulk, the initial load creates the users in
// one bulk request, and the result is the same.
func TestSyncCreatesInBulk(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.engine.Bulk = true
	p, res, writes := f.run(t)
	if p.Counts.Create != 4 || res.Done.Create != 4 || writes != 1+2+2 {
		t.Fatalf("plan %+v, done %+v, %d writes", p.Counts, res.Done, writes)
	}
	ada, err := f.c.Users.ByUserName(ctx, "ada@example.com")
	if err != nil || ada.ExternalID != "u1" || ada.DisplayName != "Ada Lovelace" {
		t.Fatalf("ada: %+v, %v", ada, err)
	}
	if got := f.members(t, "Engineering"); !slices.Equal(got, []string{"Ada Lovelace", "Alan Turing", "Compilers"}) {
		t.Fatalf("Engineering: %v", got)
	}
	if p, _, writes := f.run(t); p.Counts.Writes() != 0 || writes != 0 {
		t.Fatalf("a second run: %+v, %d writes", p.Counts, writes)
	}
	// Two new source users whose userNames differ only in case: the
	// target refuses the second, which fails alone.
	f.src.snap.Users = append(f.src.snap.Users, person("n1", "new@example.com", "N", "One", true), person("n2", "NEW@example.com", "N", "Two", true))
	p, err = f.engine.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err = f.engine.Apply(ctx, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Done.Create != 1 || len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Err, "409") {
		t.Fatalf("done %+v, failed %+v", res.Done, res.Failed)
	}
}
