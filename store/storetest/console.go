package storetest

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/store"
)

// consoleStore is what the web console needs of a store beyond
// store.Store; both SQL stores implement it.
type consoleStore interface {
	store.Store
	store.Admins
	store.RequestLog
	store.ResourceEvents
	store.GroupMembers
}

func (s *suite) console(t *testing.T) (consoleStore, string) {
	t.Helper()
	st, dir := s.setup(t)
	cs, ok := st.(consoleStore)
	if !ok {
		t.Fatalf("%T does not implement the console's interfaces (Admins, RequestLog, ResourceEvents, GroupMembers)", st)
	}
	return cs, dir
}

// testAdmins holds admins to their one-time setup links and sessions to
// their expiry.
func (s *suite) testAdmins(t *testing.T) {
	ctx := context.Background()
	st, _ := s.console(t)
	a, link, err := st.AdminSetup(ctx, "ada", time.Now().Add(time.Hour))
	if err != nil || a.Name != "ada" || a.HasPassword || link == "" {
		t.Fatalf("AdminSetup = %+v, %q, %v", a, link, err)
	}
	if got, err := st.AdminBySetup(ctx, link); err != nil || got.ID != a.ID {
		t.Fatalf("AdminBySetup = %+v, %v", got, err)
	}
	if _, err := st.AdminBySetup(ctx, link+"x"); err != store.ErrUnauthorized {
		t.Errorf("an unknown link: %v", err)
	}
	if got, err := st.UseAdminSetup(ctx, link, "$argon2id$hash"); err != nil || got.ID != a.ID || !got.HasPassword {
		t.Fatalf("UseAdminSetup = %+v, %v", got, err)
	}
	if _, err := st.UseAdminSetup(ctx, link, "$argon2id$other"); err != store.ErrUnauthorized {
		t.Errorf("a link was used twice: %v", err)
	}
	got, hash, err := st.AdminPassword(ctx, "ada")
	if err != nil || got.ID != a.ID || hash != "$argon2id$hash" {
		t.Fatalf("AdminPassword = %+v, %q, %v", got, hash, err)
	}
	wantErr(t, "an unknown admin", func() error { _, _, err := st.AdminPassword(ctx, "bob"); return err }(), store.ErrNotFound)
	_, old, err := st.AdminSetup(ctx, "ada", time.Now().Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UseAdminSetup(ctx, old, "x"); err != store.ErrUnauthorized {
		t.Errorf("an expired link was used: %v", err)
	}

	sess, err := st.CreateSession(ctx, a.ID, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if se, err := st.Session(ctx, sess); err != nil || se.Admin.ID != a.ID {
		t.Fatalf("Session = %+v, %v", se, err)
	}
	expired, err := st.CreateSession(ctx, a.ID, time.Now().Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Session(ctx, expired); err != store.ErrUnauthorized {
		t.Errorf("an expired session: %v", err)
	}
	if err := st.DeleteSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Session(ctx, sess); err != store.ErrUnauthorized {
		t.Errorf("a deleted session: %v", err)
	}
	sess, err = st.CreateSession(ctx, a.ID, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetAdminPassword(ctx, "ada", "$argon2id$new"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Session(ctx, sess); err != store.ErrUnauthorized {
		t.Errorf("a session outlived a password change: %v", err)
	}
	admins, err := st.Admins(ctx)
	if err != nil || len(admins) != 1 || !admins[0].HasPassword {
		t.Fatalf("Admins = %+v, %v", admins, err)
	}
}

// testRequestLog writes requests and reads them back by each filter.
func (s *suite) testRequestLog(t *testing.T) {
	ctx := context.Background()
	st, dir := s.console(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	reqs := []store.Request{
		{Time: now.Add(-3 * time.Hour), Directory: dir, Method: "POST", Path: "/scim/v2/Users", Status: 201, Duration: 1500 * time.Microsecond, Token: "okta", Resource: "u1"},
		{Time: now.Add(-2 * time.Hour), Directory: dir, Method: "PATCH", Path: "/scim/v2/Users/u1", Status: 400, ScimType: "invalidPath", Detail: "bad path", Token: "okta", Resource: "u1"},
		{Time: now.Add(-time.Hour), Directory: dir, Method: "GET", Path: "/scim/v2/Users", Status: 200, Token: "okta", RequestBody: "", ResponseBody: "{}"},
		{Time: now, Directory: "", Method: "GET", Path: "/scim/v2/Users", Status: 401},
	}
	if err := st.LogRequests(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		q    store.RequestQuery
		want []string // paths+status, newest first
	}{
		{"all", store.RequestQuery{Limit: 10}, []string{"GET 401", "GET 200", "PATCH 400", "POST 201"}},
		{"a directory", store.RequestQuery{Directory: dir, Limit: 10}, []string{"GET 200", "PATCH 400", "POST 201"}},
		{"client errors", store.RequestQuery{Directory: dir, StatusClass: 4, Limit: 10}, []string{"PATCH 400"}},
		{"a method", store.RequestQuery{Method: "POST", Limit: 10}, []string{"POST 201"}},
		{"a resource", store.RequestQuery{Directory: dir, Resource: "u1", Limit: 10}, []string{"PATCH 400", "POST 201"}},
		{"a time range", store.RequestQuery{Since: now.Add(-150 * time.Minute), Until: now, Limit: 10}, []string{"GET 200", "PATCH 400"}},
		{"a page", store.RequestQuery{Limit: 2}, []string{"GET 401", "GET 200"}},
	} {
		got, err := st.Requests(ctx, c.q)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var names []string
		for _, r := range got {
			names = append(names, r.Method+" "+strconv.Itoa(r.Status))
		}
		if !slices.Equal(names, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, names, c.want)
		}
	}
	page, _ := st.Requests(ctx, store.RequestQuery{Limit: 2})
	next, err := st.Requests(ctx, store.RequestQuery{Limit: 2, Before: page[1].ID})
	if err != nil || len(next) != 2 || next[0].Method != "PATCH" {
		t.Fatalf("the next page = %+v, %v", next, err)
	}
	if next[0].ScimType != "invalidPath" || next[0].Detail != "bad path" || next[1].Duration != 1500*time.Microsecond || !next[1].Time.Equal(reqs[0].Time) {
		t.Errorf("read back %+v", next)
	}
	last, err := st.LastRequest(ctx, dir)
	if err != nil || !last.Equal(now.Add(-time.Hour)) {
		t.Errorf("LastRequest = %v, %v", last, err)
	}
	// Each write is a batch per directory: the first write made two.
	if err := st.LogRequests(ctx, []store.Request{{Time: now.Add(-30 * time.Minute), Directory: dir, Method: "DELETE", Status: 204}}); err != nil {
		t.Fatal(err)
	}
	n, err := st.PruneRequests(ctx, now.Add(-150*time.Minute), 1)
	if err != nil || n != 0 {
		t.Fatalf("PruneRequests of a batch whose newest request is recent = %d, %v", n, err)
	}
	n, err = st.PruneRequests(ctx, now.Add(-50*time.Minute), 1)
	if err != nil || n != 1 {
		t.Fatalf("PruneRequests = %d, %v", n, err)
	}
	n, err = st.PruneRequests(ctx, now.Add(-20*time.Minute), 10)
	if err != nil || n != 1 {
		t.Fatalf("PruneRequests again = %d, %v", n, err)
	}
	if all, _ := st.Requests(ctx, store.RequestQuery{Limit: 10}); len(all) != 1 || all[0].Status != 401 {
		t.Errorf("after pruning, %+v", all)
	}
	// A filter that matches few of many batches still finds them.
	for i := range 40 {
		if err := st.LogRequests(ctx, []store.Request{{Time: now, Directory: dir, Method: "GET", Status: 200, Resource: "u" + strconv.Itoa(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := st.Requests(ctx, store.RequestQuery{Directory: dir, Resource: "u3", Limit: 10}); err != nil || len(got) != 1 || got[0].Resource != "u3" {
		t.Errorf("the requests of u3 = %+v, %v", got, err)
	}
	if got, err := st.Requests(ctx, store.RequestQuery{Directory: dir, Method: "GET", Limit: 45}); err != nil || len(got) != 40 {
		t.Errorf("40 GETs read back as %d, %v", len(got), err)
	}
}

// testResourceEvents reads one resource's events, newest first.
func (s *suite) testResourceEvents(t *testing.T) {
	ctx := context.Background()
	st, dir := s.console(t)
	u := s.create(t, st, dir, s.users, `{"userName":"ann"}`)
	s.create(t, st, dir, s.users, `{"userName":"bob"}`)
	changed := s.decode(t, s.users, `{"userName":"ann","displayName":"Ann"}`)
	changed.SetID(u.ID())
	if _, err := st.Replace(ctx, dir, changed, ""); err != nil {
		t.Fatal(err)
	}
	evs, err := st.ResourceEvents(ctx, dir, u.ID(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Type != store.UserUpdated || evs[1].Type != store.UserCreated || evs[0].Seq <= evs[1].Seq {
		t.Fatalf("ResourceEvents = %+v", evs)
	}
	if evs, err := st.ResourceEvents(ctx, dir, u.ID(), 1); err != nil || len(evs) != 1 || evs[0].Type != store.UserUpdated {
		t.Fatalf("ResourceEvents with a limit of 1 = %+v, %v", evs, err)
	}
}

// testGroupMembers pages through a group's members in id order.
func (s *suite) testGroupMembers(t *testing.T) {
	ctx := context.Background()
	st, dir := s.console(t)
	var members []string
	for _, name := range []string{"ann", "bob", "cat"} {
		u := s.create(t, st, dir, s.users, `{"userName":"`+name+`","displayName":"`+strings.ToUpper(name)+`"}`)
		members = append(members, `{"value":"`+u.ID()+`"}`)
	}
	inner := s.create(t, st, dir, s.groups, `{"displayName":"inner"}`)
	members = append(members, `{"value":"`+inner.ID()+`"}`)
	g := s.create(t, st, dir, s.groups, `{"displayName":"all","members":[`+strings.Join(members, ",")+`]}`)
	var seen []store.MemberInfo
	after := ""
	for {
		page, total, err := st.GroupMembers(ctx, dir, g.ID(), after, 3)
		if err != nil || total != 4 {
			t.Fatalf("GroupMembers = %+v, %d, %v", page, total, err)
		}
		seen = append(seen, page...)
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].ID
	}
	var names []string
	for i, m := range seen {
		if i > 0 && seen[i-1].ID >= m.ID {
			t.Errorf("members out of id order: %+v", seen)
		}
		names = append(names, m.Type+":"+m.Display)
	}
	slices.Sort(names)
	if want := []string{"Group:inner", "User:ANN", "User:BOB", "User:CAT"}; !slices.Equal(names, want) {
		t.Errorf("members %v, want %v", names, want)
	}
	if _, _, err := st.GroupMembers(ctx, dir, inner.ID()+"x", "", 10); err == nil {
		t.Error("the members of no group were read")
	}
	other, err := st.CreateDirectory(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "a group of another directory", func() error { _, _, err := st.GroupMembers(ctx, other.ID, g.ID(), "", 10); return err }(), store.ErrNotFound)
}
