package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/client/filter"
	"github.com/rosterhq/roster/client/patch"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store/sqlite"
)

// newRoster starts a real Roster server on a loopback port over a fresh
// SQLite store with cfg's settings, and returns its SCIM base URL and a
// bearer token of its directory.
func newRoster(t testing.TB, cfg server.Config) (base, token string) {
	t.Helper()
	base, token, stop, err := startRoster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return base, token
}

// startRoster is newRoster for callers without a testing.TB (examples):
// stop shuts the server down and removes its database.
func startRoster(cfg server.Config) (base, token string, stop func(), err error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "roster-client")
	if err != nil {
		return "", "", nil, err
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "roster.db"))
	if err != nil {
		os.RemoveAll(dir)
		return "", "", nil, err
	}
	fail := func(err error) (string, string, func(), error) {
		st.Close()
		os.RemoveAll(dir)
		return "", "", nil, err
	}
	d, err := st.CreateDirectory(ctx, "acme")
	if err != nil {
		return fail(err)
	}
	_, token, err = st.CreateToken(ctx, d.ID, "test", time.Time{})
	if err != nil {
		return fail(err)
	}
	cfg.Store = st
	cfg.PasswordIterations = 1000
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	srv := httptest.NewServer(server.New(cfg))
	return srv.URL + "/scim/v2", token, func() {
		srv.Close()
		st.Close()
		os.RemoveAll(dir)
	}, nil
}

func newClient(t testing.TB, cfg server.Config, opts ...client.Option) *client.Client {
	t.Helper()
	base, token := newRoster(t, cfg)
	c, err := client.New(base, append([]client.Option{client.WithToken(token)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUsersLifecycle(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, server.Config{})
	u, err := c.Users.Create(ctx, &client.User{
		UserName: "alice@example.com", Name: &client.Name{GivenName: "Alice", FamilyName: "Ng"}, Active: client.Bool(true),
		Emails:     []client.Email{{Value: "alice@example.com", Type: "work", Primary: true}},
		Enterprise: &client.EnterpriseUser{Department: "R&D"},
		Extra:      map[string]json.RawMessage{"roles": json.RawMessage(`[{"value":"admin"}]`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == "" || u.Meta.Version == "" || u.Enterprise == nil || u.Enterprise.Department != "R&D" {
		t.Fatalf("created %+v", u)
	}
	if string(u.Extra["roles"]) == "" || !strings.Contains(string(u.Extra["roles"]), "admin") {
		t.Fatalf("roles did not survive: %s", u.Extra["roles"])
	}
	got, err := c.Users.ByUserName(ctx, "ALICE@example.com")
	if err != nil || got.ID != u.ID {
		t.Fatalf("ByUserName: %+v, %v", got, err)
	}
	if err := c.Users.Deactivate(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	got, err = c.Users.Get(ctx, u.ID)
	if err != nil || got.Active == nil || *got.Active {
		t.Fatalf("after Deactivate: %+v, %v", got, err)
	}

	// Replace with the version read: one wins; the stale one is refused.
	got.Title = "Engineer"
	stale := *got
	if _, err := c.Users.Replace(ctx, got); err != nil {
		t.Fatal(err)
	}
	stale.Title = "Manager"
	if _, err := c.Users.Replace(ctx, &stale); !errors.Is(err, client.ErrPreconditionFailed) {
		t.Fatalf("a stale Replace: %v, want ErrPreconditionFailed", err)
	}
	// The roles, which User has no field for, survived the round trip.
	got, _ = c.Users.Get(ctx, u.ID)
	if got.Title != "Engineer" || !strings.Contains(string(got.Extra["roles"]), "admin") {
		t.Fatalf("after Replace: %+v", got)
	}

	if _, err := c.Users.Create(ctx, &client.User{UserName: "Alice@Example.com"}); !errors.Is(err, client.ErrConflict) {
		t.Fatalf("a duplicate: %v, want ErrConflict", err)
	}
	var ce *client.Error
	if _, err := c.Users.Get(ctx, "nope"); !errors.Is(err, client.ErrNotFound) || !errors.As(err, &ce) || ce.Status != 404 {
		t.Fatalf("Get of a missing user: %v", err)
	}
	if err := c.Users.Delete(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Users.Get(ctx, u.ID); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("after Delete: %v", err)
	}
}

func TestGroupsAndMembers(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, server.Config{}, client.WithMemberBatch(7))
	var ids []string
	for i := range 30 {
		u, err := c.Users.Create(ctx, &client.User{UserName: fmt.Sprintf("user%02d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	g, err := c.Groups.Create(ctx, &client.Group{DisplayName: "Engineering"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Groups.AddMembers(ctx, g.ID, ids...); err != nil {
		t.Fatal(err)
	}
	if err := c.Groups.RemoveMembers(ctx, g.ID, ids[:10]...); err != nil {
		t.Fatal(err)
	}
	if err := c.Groups.Rename(ctx, g.ID, "Platform"); err != nil {
		t.Fatal(err)
	}
	got, err := c.Groups.ByDisplayName(ctx, "platform")
	if err != nil {
		t.Fatal(err)
	}
	full, err := c.Groups.Get(ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for _, m := range full.Members {
		members = append(members, m.Value)
	}
	slices.Sort(members)
	want := slices.Clone(ids[10:])
	slices.Sort(want)
	if !slices.Equal(members, want) {
		t.Fatalf("members %v, want %v", members, want)
	}
	// Users in the group, by filter.
	n := 0
	for u, err := range c.Users.All(ctx, client.Query{Filter: filter.Eq("groups.value", g.ID).String(), Count: 4}) {
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(want, u.ID) {
			t.Fatalf("%s is not in the group", u.UserName)
		}
		n++
	}
	if n != 20 {
		t.Fatalf("listed %d users of the group, want 20", n)
	}
	if _, err := c.Groups.Patch(ctx, g.ID, patch.Add("members", []client.Member{{Value: "nope"}})); !errors.Is(err, client.ErrBadRequest) {
		t.Fatalf("adding a missing member: %v", err)
	}
}

func TestAllPagesEveryUserOnce(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, server.Config{MaxResults: 37})
	const n = 1000
	for i := range n {
		if _, err := c.Users.Create(ctx, &client.User{UserName: fmt.Sprintf("user%04d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, count := range []int{0, 1, 10, 37, 100, 5000} {
		t.Run(fmt.Sprint(count), func(t *testing.T) {
			seen := map[string]bool{}
			for u, err := range c.Users.All(ctx, client.Query{Count: count}) {
				if err != nil {
					t.Fatal(err)
				}
				if seen[u.UserName] {
					t.Fatalf("%s twice", u.UserName)
				}
				seen[u.UserName] = true
			}
			if len(seen) != n {
				t.Fatalf("saw %d users, want %d", len(seen), n)
			}
		})
	}
	// Stopping early stops.
	k := 0
	for range c.Users.All(ctx, client.Query{}) {
		if k++; k == 5 {
			break
		}
	}
	if k != 5 {
		t.Fatalf("break after 5 gave %d", k)
	}
}

func TestFilterBuilderQuotes(t *testing.T) {
	for got, want := range map[string]string{
		filter.Eq("userName", `a"b\c`).String():                                                                           `userName eq "a\"b\\c"`,
		filter.Eq("active", true).And(filter.Sw("name.familyName", "O'Ma")).String():                                      `active eq true and name.familyName sw "O'Ma"`,
		filter.Has("emails", filter.Eq("type", "work").Or(filter.Pr("primary"))).String():                                 `emails[type eq "work" or primary pr]`,
		filter.Not(filter.Eq("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "R&D")).String():    `not (urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "R&D")`,
		filter.Gt("meta.lastModified", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)).String():                              `meta.lastModified gt "2025-01-02T03:04:05Z"`,
		filter.All(filter.Eq("a", 1), filter.Eq("b", nil), filter.Any(filter.Eq("c", 1.5), filter.Eq("d", "x"))).String(): `a eq 1 and b eq null and (c eq 1.5 or d eq "x")`,
	} {
		if got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

func TestUserJSONKeepsAmpersands(t *testing.T) {
	u := client.User{UserName: "a&b", Enterprise: &client.EnterpriseUser{Department: "R&D <x>"},
		Extra: map[string]json.RawMessage{"roles": json.RawMessage(`[{"value":"R&D"}]`)}}
	// json.Marshal escapes a Marshaler's output for HTML whatever it is;
	// an Encoder that does not (as roster's -o json) keeps it as is.
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(u); err != nil {
		t.Fatal(err)
	}
	b := []byte(buf.String())
	if strings.Contains(string(b), `\u0026`) || !strings.Contains(string(b), `"R&D <x>"`) {
		t.Fatalf("%s", b)
	}
	var back client.User
	if err := json.Unmarshal(b, &back); err != nil || back.Enterprise.Department != "R&D <x>" || back.UserName != "a&b" {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}

func TestChangeMembersRemovesAndAddsInOneBatch(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, server.Config{}, client.WithMemberBatch(3))
	var ids []string
	for i := range 9 {
		u, err := c.Users.Create(ctx, &client.User{UserName: fmt.Sprintf("m%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	g, err := c.Groups.Create(ctx, &client.Group{DisplayName: "G", Members: []client.Member{{Value: ids[0]}, {Value: ids[1]}, {Value: ids[2]}, {Value: ids[3]}}})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := c.Groups.Get(ctx, g.ID)
	// 4 removals and 5 additions, 3 a request: 3 PATCHes, the version
	// moving once each.
	if err := c.Groups.ChangeMembers(ctx, g.ID, ids[4:], ids[:4]); err != nil {
		t.Fatal(err)
	}
	after, _ := c.Groups.Get(ctx, g.ID)
	var got []string
	for _, m := range after.Members {
		got = append(got, m.Value)
	}
	want := slices.Clone(ids[4:])
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("members %v, want %v", got, want)
	}
	if before.Meta.Version != `W/"1"` || after.Meta.Version != `W/"4"` {
		t.Fatalf("versions %s → %s, want W/\"1\" → W/\"4\" (three PATCHes)", before.Meta.Version, after.Meta.Version)
	}
}

// TestTransportSendsOnceWithTheClientsCredentials: Transport adds the
// client's headers and credentials to a request that lacks them, keeps
// those it sets, and does not retry (a 429 comes back as it is).
func TestTransportSendsOnceWithTheClientsCredentials(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("X-Auth", r.Header.Get("Authorization"))
		w.Header().Set("X-UA", r.Header.Get("User-Agent"))
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, client.WithToken("tok"), client.WithUserAgent("ua/1"))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: c.Transport()}
	for _, tc := range []struct{ set, wantAuth string }{{"", "Bearer tok"}, {"Bearer other", "Bearer other"}} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/Users", nil)
		if tc.set != "" {
			req.Header.Set("Authorization", tc.set)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-Auth") != tc.wantAuth || resp.Header.Get("X-UA") != "ua/1" {
			t.Errorf("status %d, Authorization %q, User-Agent %q; want 429, %q, ua/1", resp.StatusCode, resp.Header.Get("X-Auth"), resp.Header.Get("X-UA"), tc.wantAuth)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("the server was called %d times for 2 requests: Transport retried", n)
	}
}
