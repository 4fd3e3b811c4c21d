package reconcile_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/reconcile/source"
)

// bodyLog records the write requests a client sends, as "METHOD /path
// body", the path relative to the SCIM base URL's.
type bodyLog struct {
	mu    sync.Mutex
	reqs  []string
	base  http.RoundTripper
	match func(method, path, body string) bool // if set, answers 400 to a request it matches
}

func (l *bodyLog) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet {
		return l.base.RoundTrip(r)
	}
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	path := r.URL.Path
	if i := strings.Index(path, "/scim/v2"); i >= 0 {
		path = path[i+len("/scim/v2"):]
	}
	l.mu.Lock()
	l.reqs = append(l.reqs, r.Method+" "+path+" "+string(body))
	match := l.match
	l.mu.Unlock()
	if match != nil && match(r.Method, path, string(body)) {
		return &http.Response{StatusCode: http.StatusBadRequest, Request: r, Header: http.Header{"Content-Type": {"application/scim+json"}},
			Body: io.NopCloser(strings.NewReader(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidValue","detail":"refused by the test"}`))}, nil
	}
	return l.base.RoundTrip(r)
}

// take returns the writes recorded since the last call, and forgets them.
func (l *bodyLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.reqs
	l.reqs = nil
	return out
}

// TestAPlanChangesNoState: Plan records nothing in the engine's state:
// explain calls a user the plan only adopts unmanaged, and an engine
// reused for a second plan refuses the same mass adoption again, until
// it is applied.
func TestAPlanChangesNoState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.engine.Policy.MaxDeprovision = 1
	// Three users made by hand, with the source's userNames and no
	// externalId: adoptions by userName, more than the limit of one.
	for _, u := range f.src.snap.Users[:3] {
		if _, err := f.c.Users.Create(ctx, &client.User{UserName: u.Attributes["mail"][0]}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		p, err := f.engine.Plan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Counts.Adopt != 3 || !strings.Contains(strings.Join(p.Refused, "\n"), "adopts 3 users and groups") {
			t.Fatalf("plan %d: %+v, refused %q: want 3 adoptions refused", i+1, p.Counts, p.Refused)
		}
		if _, err := f.engine.Apply(ctx, p, false); !errors.Is(err, reconcile.ErrRefused) {
			t.Fatalf("apply of plan %d: %v", i+1, err)
		}
		if n := len(f.engine.State.Users); n != 0 {
			t.Fatalf("after plan %d, the state owns %d users", i+1, n)
		}
	}
	var out strings.Builder
	if err := f.engine.Explain(ctx, &out, "ada@example.com"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "not managed by this configuration") || strings.Contains(out.String(), "managed by this configuration since") {
		t.Fatalf("explain of a user the plan adopts:\n%s", out.String())
	}
	p, err := f.engine.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.Apply(ctx, p, true); err != nil {
		t.Fatal(err)
	}
	if len(f.engine.State.Users) != 4 {
		t.Fatalf("applied, the state owns %v", f.engine.State.Users)
	}
}

// TestEveryRefusalIsKept: a plan tripping two guards says both, and
// apply's error names both, as allowing mass changes overrides both.
func TestEveryRefusalIsKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.engine.Policy.MaxDeprovision = 1
	for _, u := range f.src.snap.Users {
		u.Attributes["title"] = []string{"Engineer"}
	}
	f.engine.Mapping = reconcile.DefaultMapping()
	f.run(t)
	for _, u := range f.src.snap.Users {
		delete(u.Attributes, "title")
	}
	f.src.snap.Users[0].Active, f.src.snap.Users[1].Active = false, false
	p, err := f.engine.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Refused) != 2 {
		t.Fatalf("refused %q: want a mass deactivation and a mass clearing", p.Refused)
	}
	var text strings.Builder
	p.WriteText(&text)
	_, err = f.engine.Apply(ctx, p, false)
	for _, want := range []string{"deactivates or deletes 2", "clears title"} {
		if !strings.Contains(text.String(), "REFUSED: the plan "+want) || err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%q is not in the plan or apply's error (%v):\n%s", want, err, text.String())
		}
	}
}

// TestAGroupAdoptedIsGivenItsExternalIdByAnAdd: a group adopted by
// displayName has no externalId, which an add gives it (a replace of an
// absent attribute is noTarget to a strict target); a group adopted by
// externalId and renamed is sent its name only.
func TestAGroupAdoptedIsGivenItsExternalIdByAnAdd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	log := &bodyLog{base: testTransport(t)}
	c, err := client.New(f.url, client.WithToken(f.token), client.WithTransport(log))
	if err != nil {
		t.Fatal(err)
	}
	f.engine.Target = c
	f.engine.Policy.Adopt = reconcile.AdoptExternalID
	if _, err := f.c.Groups.Create(ctx, &client.Group{DisplayName: "ENGINEERING"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Groups.Create(ctx, &client.Group{DisplayName: "Old Compilers", ExternalID: "g2"}); err != nil {
		t.Fatal(err)
	}
	f.run(t)
	var patches []string
	for _, r := range log.take() {
		if strings.HasPrefix(r, "PATCH /Groups/") && strings.Contains(r, "displayName") {
			patches = append(patches, r)
		}
	}
	if len(patches) != 2 {
		t.Fatalf("renames: %q", patches)
	}
	for _, r := range patches {
		switch {
		case strings.Contains(r, `"Engineering"`):
			if !strings.Contains(r, `{"op":"add","path":"externalId","value":"g1"}`) {
				t.Fatalf("adopted by displayName: %s", r)
			}
		case strings.Contains(r, "externalId"):
			t.Fatalf("adopted by externalId, it is sent its externalId: %s", r)
		}
	}
}

// TestAFailedCreateIsNotOwned: a create the target refuses (a userName
// another system's user holds) leaves no claim on its externalId in the
// state saved.
func TestAFailedCreateIsNotOwned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "state.json")
	st, err := reconcile.LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	f.engine.State = st
	if _, err := f.c.Users.Create(ctx, &client.User{UserName: "ada@example.com", ExternalID: "okta-00u1"}); err != nil {
		t.Fatal(err)
	}
	p, err := f.engine.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.engine.Apply(ctx, p, false)
	if err != nil || res.FailedCounts.Create != 1 || res.Done.Create != 3 {
		t.Fatalf("apply: %v, %+v", err, res)
	}
	saved, err := reconcile.LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Users["u1"] != nil || saved.Users["u2"] == nil {
		t.Fatalf("the state saved owns %v: want u2, u3, u4 and not u1", saved.Users)
	}
}

// TestEveryMemberChangeIsTriedOneByOne: once the target took one
// operation a request, a refused member removal does not keep the
// others from being sent.
func TestEveryMemberChangeIsTriedOneByOne(t *testing.T) {
	t.Parallel()
	url, token, _ := startStrictProxy(t, 1, 0)
	src := staff()
	e, _ := strictEngine(t, url, token, src)
	mustSync(t, e)
	direct, err := client.New(url, client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	// The first removal sent alone is refused, whichever it is.
	refused := false
	log := &bodyLog{base: testTransport(t), match: func(method, path, body string) bool {
		if method != http.MethodPatch || !strings.HasPrefix(path, "/Groups/") || strings.Count(body, `"op"`) != 1 || !strings.Contains(body, `"remove"`) || refused {
			return false
		}
		refused = true
		return true
	}}
	e.Target, err = client.New(url, client.WithToken(token), client.WithTransport(log))
	if err != nil {
		t.Fatal(err)
	}
	src.snap.Groups[0].Members = nil // Ada and Alan leave Engineering
	_, res := syncOnce(t, e)
	if len(res.Failed) != 1 {
		t.Fatalf("failed %+v", res.Failed)
	}
	names := strings.Join(memberNames(t, direct, "Engineering"), ", ")
	if strings.Contains(names, "Ada") == strings.Contains(names, "Alan") {
		t.Fatalf("Engineering: %s: want one of Ada and Alan removed, though the other's removal was refused", names)
	}
}

// TestAdoptingAnotherConfigurationsUsersNeedsThePolicy: by default a
// second configuration on the same target leaves alone the users and
// groups the first manages (same externalId), saying so in its plan,
// rather than adopt them, unattended, and fight the first over them;
// policy.adopt: externalId takes them over, each shown in the plan.
func TestAdoptingAnotherConfigurationsUsersNeedsThePolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, token, _ := startStrictProxy(t, 100, 0)
	first, _ := strictEngine(t, url, token, staff())
	mustSync(t, first)

	ada := staff().snap.Users[0]
	ada.Attributes["sn"] = []string{"King"} // the second would change her
	src := &memSource{snap: source.Snapshot{
		Users:  []source.User{ada, person("c1", "zed@example.com", "Zed", "Contractor", true)},
		Groups: []source.Group{{ID: "eng", Name: "Engineering", Members: []string{"u1", "c1"}}},
	}}
	second, count := strictEngine(t, url, token, src)
	p, err := second.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Counts.Adopt != 0 || p.Counts.NotAdopted != 2 || p.Counts.Update != 0 || p.Counts.Writes() != 1 {
		t.Fatalf("the second configuration's plan: %+v", p.Counts)
	}
	var text strings.Builder
	p.WriteText(&text)
	for _, want := range []string{"2 users and groups match the source but are not this configuration's, and policy.adopt: userName leaves them alone",
		"user ada@example.com [u1], same externalId", "group Engineering [eng], same externalId"} {
		if !strings.Contains(text.String(), want) {
			t.Fatalf("the plan does not say %q:\n%s", want, text.String())
		}
	}
	count.take()
	if res, err := second.Apply(ctx, p, false); err != nil || len(res.Failed) > 0 || res.Done.Create != 1 {
		t.Fatalf("apply: %v, %+v", err, res)
	}
	if n := count.take(); n != 1 {
		t.Fatalf("creating Zed wrote %d times", n)
	}
	if len(second.State.Users) != 1 || len(second.State.Groups) != 0 {
		t.Fatalf("the second owns %v and %v: want Zed only", second.State.Users, second.State.Groups)
	}
	var out strings.Builder
	if err := second.Explain(ctx, &out, "ada@example.com"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "policy.adopt: userName leaves them alone") {
		t.Fatalf("explain of a user left alone:\n%s", out.String())
	}

	second.Policy.Adopt = reconcile.AdoptExternalID
	p, err = second.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	text.Reset()
	p.WriteText(&text)
	if p.Counts.Adopt != 2 || p.Counts.NotAdopted != 0 || !strings.Contains(text.String(), "adopt user ada@example.com [u1]: same externalId") {
		t.Fatalf("with policy.adopt: externalId: %+v\n%s", p.Counts, text.String())
	}

	second.Policy.Adopt = reconcile.AdoptNone
	second.State.Users, second.State.Groups = map[string]*reconcile.Owned{}, map[string]*reconcile.Owned{}
	p, err = second.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Counts.Adopt != 0 || p.Counts.NotAdopted != 3 {
		t.Fatalf("with policy.adopt: none: %+v", p.Counts)
	}
}
