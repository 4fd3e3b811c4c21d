// Package storetest is the conformance suite every store.Store must pass:
// store/sqlite and store/postgres run it against real databases. It also
// holds the SQL stores' filter suite: RunFilters and FuzzFilters hold a
// dialect's translation of filters and sorts into SQL to filter.Match and
// resource.Compare, on a fixture of users and groups (see
// NewFilterFixture) in a database of the store's own.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTestStore(t) })
//	}
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// Run runs the suite, its tests in parallel. open returns a new, empty
// store for each test; the suite does not close it (register that with
// t.Cleanup in open).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	reg := schema.NewRegistry()
	s := &suite{users: reg.ResourceType("User"), groups: reg.ResourceType("Group"), open: open}
	for _, test := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"Directories", s.testDirectories},
		{"CreateAndGet", s.testCreateAndGet},
		{"UserNameIsUniquePerDirectoryIgnoringCase", s.testUniqueness},
		{"DirectoriesAreIsolated", s.testIsolation},
		{"Replace", s.testReplace},
		{"LookupsFollowChanges", s.testLookupsFollowChanges},
		{"Delete", s.testDelete},
		{"GroupsAndMembers", s.testGroups},
		{"PatchUsers", s.testPatchUsers},
		{"PatchMembers", s.testPatchMembers},
		{"List", s.testList},
		{"ListGroups", s.testListGroups},
		{"Concurrency", s.testConcurrency},
		{"Tokens", s.testTokens},
		{"Cursor", s.testCursor},
		{"OAuthClients", s.testClients},
		{"SyncHistory", s.testSyncHistory},
		{"CancelledList", s.testCancelledList},
		{"ListBudget", s.testListBudget},
		{"Events", s.testEvents},
		{"EventsOnlyForChanges", s.testEventsOnlyForChanges},
		{"EventsThrough", s.testEventsThrough},
		{"EventsOfCredentials", s.testEventsOfCredentials},
		{"EventOrder", s.testEventOrder},
		{"PruneEvents", s.testPruneEvents},
		{"ManagementKeys", s.testManagementKeys},
		{"Webhooks", s.testWebhooks},
		{"WebhookCursorsStart", s.testWebhookCursorsStart},
		{"WebhookDeliveryState", s.testWebhookDeliveryState},
		{"WebhookClaimsAreExclusive", s.testWebhookClaimsAreExclusive},
		{"Admins", s.testAdmins},
		{"RequestLog", s.testRequestLog},
		{"ResourceEvents", s.testResourceEvents},
		{"GroupMembers", s.testGroupMembers},
	} {
		// Each test has a store of its own, so they run in parallel: a
		// store's tests wait on the database more than on the CPU.
		t.Run(test.name, func(t *testing.T) {
			t.Parallel()
			test.run(t)
		})
	}
}

type suite struct {
	users, groups *schema.ResourceType
	open          func(t *testing.T) store.Store
}

// setup opens a store with one directory.
func (s *suite) setup(t *testing.T) (store.Store, string) {
	t.Helper()
	st := s.open(t)
	d, err := st.CreateDirectory(context.Background(), "acme")
	if err != nil {
		t.Fatalf("CreateDirectory: %v", err)
	}
	return st, d.ID
}

func (s *suite) decode(t *testing.T, rt *schema.ResourceType, body string) *resource.Resource {
	t.Helper()
	r, err := resource.Decode(rt, []byte(body), resource.Options{})
	if err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return r
}

func (s *suite) create(t *testing.T, st store.Store, dir string, rt *schema.ResourceType, body string) *resource.Resource {
	t.Helper()
	return s.createCtx(context.Background(), t, st, dir, rt, body)
}

func (s *suite) createCtx(ctx context.Context, t *testing.T, st store.Store, dir string, rt *schema.ResourceType, body string) *resource.Resource {
	t.Helper()
	r, err := st.Create(ctx, dir, s.decode(t, rt, body))
	if err != nil {
		t.Fatalf("Create %s: %v", body, err)
	}
	return r
}

func (s *suite) parse(t *testing.T, f string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(f, s.users)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

func (s *suite) testDirectories(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	a, err := st.CreateDirectory(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == "" || a.Name != "Acme" || a.Created.IsZero() {
		t.Fatalf("directory = %+v, want an id, the name and a creation time", a)
	}
	_, err = st.CreateDirectory(ctx, "ACME")
	wantErr(t, "a directory name taken in another case", err, store.ErrConflict)
	b, err := st.CreateDirectory(ctx, "Globex")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{a.ID, "acme", "Acme"} {
		got, err := st.Directory(ctx, key)
		if err != nil || got.ID != a.ID {
			t.Errorf("Directory(%q) = %+v, %v; want %s", key, got, err, a.ID)
		}
	}
	// A directory named like another's id does not shadow it.
	if _, err := st.CreateDirectory(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Directory(ctx, b.ID); err != nil || got.ID != b.ID {
		t.Errorf("Directory(id) = %+v, %v; want the directory with that id", got, err)
	}
	_, err = st.Directory(ctx, "nope")
	wantErr(t, "an unknown directory", err, store.ErrNotFound)
	all, err := st.Directories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].ID != a.ID || all[1].ID != b.ID {
		t.Fatalf("Directories = %+v, want acme, globex and the one named like globex's id", all)
	}
}

func (s *suite) testCreateAndGet(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	body := `{"userName":"bjensen@example.com","externalId":"bj","name":{"givenName":"Barbara","familyName":"Jensen"},
		"active":true,"password":"s3cret","emails":[{"value":"bjensen@example.com","type":"work","primary":true}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","manager":{"value":"m1"}}}`
	in := s.decode(t, s.users, body)
	created, err := st.Create(ctx, dir, in)
	if err != nil {
		t.Fatal(err)
	}
	if in.ID() != "" {
		t.Error("Create changed the resource it was given")
	}
	meta := created.Meta()
	if created.ID() == "" || meta.Created.IsZero() || !meta.LastModified.Equal(meta.Created) || meta.Version != `W/"1"` {
		t.Fatalf("created id %q meta %+v: want an id, created = lastModified and version W/\"1\"", created.ID(), meta)
	}
	got, err := st.Get(ctx, dir, s.users, created.ID(), true)
	if err != nil {
		t.Fatal(err)
	}
	if g, c := string(got.AppendJSON(nil, nil)), string(created.AppendJSON(nil, nil)); g != c {
		t.Fatalf("Get returned\n %s\nCreate returned\n %s", g, c)
	}
	if got.Attrs["password"] != "s3cret" {
		t.Errorf("the password (hashed by the caller) was not stored: %v", got.Attrs["password"])
	}
	if _, err := st.Create(ctx, "no-such-directory", s.decode(t, s.users, `{"userName":"x"}`)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Create in an unknown directory: got %v, want ErrNotFound", err)
	}
	_, err = st.Get(ctx, dir, s.users, "no-such-id", false)
	wantErr(t, "Get of an unknown id", err, store.ErrNotFound)
	_, err = st.Get(ctx, dir, s.groups, created.ID(), false)
	wantErr(t, "Get of a user as a group", err, store.ErrNotFound)
}

func (s *suite) testUniqueness(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	s.create(t, st, dir, s.users, `{"userName":"alice@x.com"}`)
	_, err := st.Create(ctx, dir, s.decode(t, s.users, `{"userName":"ALICE@X.COM"}`))
	wantErr(t, "the same userName in another case", err, store.ErrConflict)
	_, err = st.Create(ctx, dir, s.decode(t, s.users, `{"userName":"Ärger"}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Create(ctx, dir, s.decode(t, s.users, `{"userName":"äRGER"}`))
	wantErr(t, "a non-ASCII userName in another case", err, store.ErrConflict)
	// Names equal as filters compare them (strings.EqualFold) are one name,
	// even where lower-casing tells them apart (ſ, the long s, folds to s).
	s.create(t, st, dir, s.users, `{"userName":"sam"}`)
	_, err = st.Create(ctx, dir, s.decode(t, s.users, `{"userName":"ſam"}`))
	wantErr(t, "a userName equal to another under case folding", err, store.ErrConflict)
	s.create(t, st, dir, s.groups, `{"displayName":"Engineering"}`)
	_, err = st.Create(ctx, dir, s.decode(t, s.groups, `{"displayName":"engineering"}`))
	wantErr(t, "the same group displayName in another case", err, store.ErrConflict)
	// A group may share a name with a user.
	s.create(t, st, dir, s.groups, `{"displayName":"alice@x.com"}`)
	other, err := st.CreateDirectory(ctx, "globex")
	if err != nil {
		t.Fatal(err)
	}
	s.create(t, st, other.ID, s.users, `{"userName":"alice@x.com"}`)
}

func (s *suite) testIsolation(t *testing.T) {
	ctx := context.Background()
	st, acme := s.setup(t)
	globex, err := st.CreateDirectory(ctx, "globex")
	if err != nil {
		t.Fatal(err)
	}
	u := s.create(t, st, acme, s.users, `{"userName":"alice"}`)
	g := s.create(t, st, acme, s.groups, fmt.Sprintf(`{"displayName":"Eng","members":[{"value":%q}]}`, u.ID()))

	_, err = st.Get(ctx, globex.ID, s.users, u.ID(), false)
	wantErr(t, "Get through another directory", err, store.ErrNotFound)
	_, err = st.Get(ctx, globex.ID, s.groups, g.ID(), true)
	wantErr(t, "Get of a group through another directory", err, store.ErrNotFound)
	stolen := u.Clone()
	stolen.Attrs["userName"] = "mallory"
	_, err = st.Replace(ctx, globex.ID, stolen, "")
	wantErr(t, "Replace through another directory", err, store.ErrNotFound)
	err = st.Delete(ctx, globex.ID, s.users, u.ID(), "")
	wantErr(t, "Delete through another directory", err, store.ErrNotFound)

	got, err := st.Get(ctx, acme, s.users, u.ID(), false)
	if err != nil || got.Attrs["userName"] != "alice" {
		t.Fatalf("after the other directory's attempts: %v, %v; want alice unchanged", got, err)
	}
	// A group in another directory cannot take the user as a member.
	_, err = st.Create(ctx, globex.ID, s.decode(t, s.groups, fmt.Sprintf(`{"displayName":"Spies","members":[{"value":%q}]}`, u.ID())))
	var serr *scim.Error
	if !errors.As(err, &serr) || serr.ScimType != scim.InvalidValue {
		t.Fatalf("a member from another directory: got %v, want a 400 invalidValue *scim.Error", err)
	}
	spies := s.create(t, st, globex.ID, s.groups, `{"displayName":"Spies"}`)
	_, err = s.patch(t, st, globex.ID, s.groups, spies.ID(), ops(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]}`, u.ID())), "")
	if !errors.As(err, &serr) || serr.ScimType != scim.InvalidValue {
		t.Fatalf("adding a member from another directory: got %v, want a 400 invalidValue *scim.Error", err)
	}
	got, err = st.Get(ctx, acme, s.users, u.ID(), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, gr := range asList(got.Attrs["groups"]) {
		if gr.(map[string]any)["display"] == "Spies" {
			t.Fatal("a group of another directory shows in the user's groups")
		}
	}
}

func (s *suite) testReplace(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	u := s.create(t, st, dir, s.users, `{"userName":"alice","title":"Engineer"}`)
	s.create(t, st, dir, s.users, `{"userName":"bob"}`)

	next := s.decode(t, s.users, `{"userName":"alice","title":"Manager"}`)
	next.SetID(u.ID())
	_, err := st.Replace(ctx, dir, next, `W/"7"`)
	wantErr(t, "Replace with a stale version", err, store.ErrPreconditionFailed)
	got, err := st.Replace(ctx, dir, next, u.Meta().Version)
	if err != nil {
		t.Fatal(err)
	}
	if got.Attrs["title"] != "Manager" || got.Meta().Version != `W/"2"` || !got.Meta().Created.Equal(u.Meta().Created) {
		t.Fatalf("replaced = %v meta %+v: want title Manager, version 2, the same created", got.Attrs, got.Meta())
	}
	if !got.Meta().LastModified.After(u.Meta().LastModified) && !got.Meta().LastModified.Equal(u.Meta().LastModified) {
		t.Errorf("lastModified went back")
	}
	rename := s.decode(t, s.users, `{"userName":"BOB"}`)
	rename.SetID(u.ID())
	_, err = st.Replace(ctx, dir, rename, "")
	wantErr(t, "Replace to another user's userName", err, store.ErrConflict)
	after, err := st.Get(ctx, dir, s.users, u.ID(), false)
	if err != nil || after.Attrs["title"] != "Manager" || after.Meta().Version != `W/"2"` {
		t.Fatalf("a failed Replace changed the user: %v %v", after, err)
	}
	missing := s.decode(t, s.users, `{"userName":"carol"}`)
	missing.SetID("no-such-id")
	_, err = st.Replace(ctx, dir, missing, "")
	wantErr(t, "Replace of an unknown id", err, store.ErrNotFound)
}

// The indexed values (userName, externalId, emails) are found as a change
// left them, whether it changed them (a rename by PATCH or PUT) or not (a
// PATCH of active, which leaves their indexes alone).
func (s *suite) testLookupsFollowChanges(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	u := s.create(t, st, dir, s.users, `{"userName":"alice","externalId":"a1","emails":[{"value":"alice@example.com"}]}`)
	finds := func(when string, found bool, filters ...string) {
		t.Helper()
		for _, f := range filters {
			p, err := st.List(ctx, dir, store.Query{Type: s.users, Filter: s.parse(t, f), Count: 10})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(p.Resources) == 1 && p.Resources[0].ID() == u.ID(); got != found || p.Total != len(p.Resources) {
				t.Errorf("%s: %s found %d (total %d); want the user: %v", when, f, len(p.Resources), p.Total, found)
			}
		}
	}
	first := []string{`userName eq "alice"`, `userName sw "alice"`, `externalId eq "a1"`, `emails.value eq "alice@example.com"`, `emails[value eq "ALICE@example.com"]`}
	finds("created", true, first...)
	if _, err := s.patch(t, st, dir, s.users, u.ID(), ops(`{"op":"replace","path":"active","value":false}`), ""); err != nil {
		t.Fatal(err)
	}
	finds("after a PATCH of active", true, first...)
	if _, err := s.patch(t, st, dir, s.users, u.ID(), ops(`{"op":"replace","value":{"userName":"alicia","externalId":"a2","emails":[{"value":"alicia@example.com"}]}}`), ""); err != nil {
		t.Fatal(err)
	}
	finds("after a PATCH of the names", false, first...)
	second := []string{`userName eq "ALICIA"`, `externalId eq "a2"`, `emails.value eq "alicia@example.com"`}
	finds("after a PATCH of the names", true, second...)
	next := s.decode(t, s.users, `{"userName":"ally","externalId":"a3","emails":[{"value":"ally@example.com"}],"active":false}`)
	next.SetID(u.ID())
	if _, err := st.Replace(ctx, dir, next, ""); err != nil {
		t.Fatal(err)
	}
	finds("after a PUT", false, second...)
	finds("after a PUT", true, `userName eq "ally"`, `externalId eq "a3"`, `emails.value eq "ally@example.com"`)
	keep := s.decode(t, s.users, `{"userName":"ally","externalId":"a3","emails":[{"value":"ally@example.com"}],"title":"CTO"}`)
	keep.SetID(u.ID())
	if _, err := st.Replace(ctx, dir, keep, ""); err != nil {
		t.Fatal(err)
	}
	finds("after a PUT of the same names", true, `userName eq "ally"`, `externalId eq "a3"`, `emails.value eq "ally@example.com"`)
	// The names given up are free, the one held is not.
	s.create(t, st, dir, s.users, `{"userName":"Alice"}`)
	_, err := st.Create(ctx, dir, s.decode(t, s.users, `{"userName":"ALLY"}`))
	wantErr(t, "Create of a renamed user's name", err, store.ErrConflict)
}

func (s *suite) testDelete(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	u := s.create(t, st, dir, s.users, `{"userName":"alice"}`)
	v := s.create(t, st, dir, s.users, `{"userName":"bob"}`)
	g := s.create(t, st, dir, s.groups, fmt.Sprintf(`{"displayName":"Eng","members":[{"value":%q},{"value":%q}]}`, u.ID(), v.ID()))

	wantErr(t, "Delete with a stale version", st.Delete(ctx, dir, s.users, u.ID(), `W/"9"`), store.ErrPreconditionFailed)
	if err := st.Delete(ctx, dir, s.users, u.ID(), u.Meta().Version); err != nil {
		t.Fatal(err)
	}
	_, err := st.Get(ctx, dir, s.users, u.ID(), false)
	wantErr(t, "Get after Delete", err, store.ErrNotFound)
	wantErr(t, "Delete twice", st.Delete(ctx, dir, s.users, u.ID(), ""), store.ErrNotFound)
	got, err := st.Get(ctx, dir, s.groups, g.ID(), true)
	if err != nil {
		t.Fatal(err)
	}
	if ids := memberIDs(got); !slices.Equal(ids, []string{v.ID()}) {
		t.Fatalf("members after deleting a member = %v, want only bob", ids)
	}
	// Deleting the group keeps its users, and their groups forget it.
	if err := st.Delete(ctx, dir, s.groups, g.ID(), ""); err != nil {
		t.Fatal(err)
	}
	bob, err := st.Get(ctx, dir, s.users, v.ID(), false)
	if err != nil {
		t.Fatalf("deleting a group deleted its member: %v", err)
	}
	if _, ok := bob.Attrs["groups"]; ok {
		t.Fatalf("bob's groups after the group was deleted: %v", bob.Attrs["groups"])
	}
	// The userName of a deleted user is free again.
	s.create(t, st, dir, s.users, `{"userName":"ALICE"}`)
}

func (s *suite) testGroups(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	alice := s.create(t, st, dir, s.users, `{"userName":"alice","displayName":"Alice A."}`)
	bob := s.create(t, st, dir, s.users, `{"userName":"bob"}`)
	eng := s.create(t, st, dir, s.groups, fmt.Sprintf(`{"displayName":"Eng","members":[{"value":%q},{"value":%q},{"value":%q}]}`,
		alice.ID(), bob.ID(), alice.ID()))
	all := s.create(t, st, dir, s.groups, fmt.Sprintf(`{"displayName":"All","members":[{"value":%q,"type":"Group"}]}`, eng.ID()))

	_, err := st.Create(ctx, dir, s.decode(t, s.groups, `{"displayName":"Ghosts","members":[{"value":"no-such-user"}]}`))
	var serr *scim.Error
	if !errors.As(err, &serr) || serr.ScimType != scim.InvalidValue {
		t.Fatalf("a member that does not exist: got %v, want a 400 invalidValue *scim.Error", err)
	}
	liar := s.create(t, st, dir, s.groups, fmt.Sprintf(`{"displayName":"Liar","members":[{"value":%q,"type":"Group"}]}`, bob.ID()))
	if m := asList(liar.Attrs["members"]); len(m) != 1 || m[0].(map[string]any)["type"] != "User" {
		t.Fatalf("a user sent as type Group = %v, want type User from the stored resource", m)
	}
	if ids := memberIDs(eng); !slices.Equal(ids, sorted(alice.ID(), bob.ID())) {
		t.Fatalf("members stored from POST = %v, want alice and bob once each", ids)
	}
	got, err := st.Get(ctx, dir, s.groups, eng.ID(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range asList(got.Attrs["members"]) {
		m := m.(map[string]any)
		if m["value"] == alice.ID() && (m["display"] != "Alice A." || m["type"] != "User") {
			t.Errorf("alice as a member = %v, want display Alice A. and type User", m)
		}
	}
	lean, err := st.Get(ctx, dir, s.groups, eng.ID(), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lean.Attrs["members"]; ok {
		t.Error("Get without members loaded them")
	}

	// alice is in Eng directly and in All through Eng.
	a, err := st.Get(ctx, dir, s.users, alice.ID(), true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{eng.ID(): "direct", all.ID(): "indirect"}
	groups := asList(a.Attrs["groups"])
	if len(groups) != 2 {
		t.Fatalf("alice's groups = %v, want Eng (direct) and All (indirect)", groups)
	}
	for _, g := range groups {
		g := g.(map[string]any)
		if want[g["value"].(string)] != g["type"] {
			t.Errorf("alice's group %v, want type %s", g, want[g["value"].(string)])
		}
	}

	// A PATCH and a PUT of a user answer with its groups, as Get does;
	// of a user in none, with none.
	patched, err := s.patch(t, st, dir, s.users, alice.ID(), ops(`{"op":"replace","path":"title","value":"Lead"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(asList(patched.Attrs["groups"])) != 2 {
		t.Fatalf("PATCH of alice: groups %v", patched.Attrs["groups"])
	}
	newAlice := s.decode(t, s.users, `{"userName":"alice"}`)
	newAlice.SetID(alice.ID())
	replaced, err := st.Replace(ctx, dir, newAlice, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(asList(replaced.Attrs["groups"])) != 2 {
		t.Fatalf("PUT of alice: groups %v", replaced.Attrs["groups"])
	}
	loner := s.create(t, st, dir, s.users, `{"userName":"loner"}`)
	if p, err := s.patch(t, st, dir, s.users, loner.ID(), ops(`{"op":"replace","path":"title","value":"x"}`), ""); err != nil {
		t.Fatal(err)
	} else if p.Attrs["groups"] != nil {
		t.Fatalf("PATCH of a user in no group: groups %v", p.Attrs["groups"])
	}

	// Without members, a user's groups are not computed (a sync lists
	// users with excludedAttributes=groups).
	if lean, err := st.Get(ctx, dir, s.users, alice.ID(), false); err != nil || lean.Attrs["groups"] != nil {
		t.Fatalf("Get of a user without members: groups %v, %v", lean.Attrs["groups"], err)
	}
	page, err := st.List(ctx, dir, store.Query{Type: s.users, Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Resources {
		if r.Attrs["groups"] != nil {
			t.Fatalf("a list without members computed %s's groups", r.Attrs["userName"])
		}
	}

	// A list computes the same groups as a read.
	page, err = st.List(ctx, dir, store.Query{Type: s.users, Count: 100, Members: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Resources {
		one, err := st.Get(ctx, dir, s.users, r.ID(), true)
		if err != nil {
			t.Fatal(err)
		}
		if l, g := fmt.Sprint(r.Attrs["groups"]), fmt.Sprint(one.Attrs["groups"]); l != g {
			t.Errorf("%s's groups in a list %s, in a read %s", r.Attrs["userName"], l, g)
		}
	}

	// A cycle of nested groups ends.
	loop := eng.Clone()
	loop.Attrs["members"] = []any{map[string]any{"value": alice.ID()}, map[string]any{"value": all.ID(), "type": "Group"}}
	if _, err := st.Replace(ctx, dir, loop, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, dir, s.users, alice.ID(), false); err != nil {
		t.Fatalf("groups of a user in a cycle: %v", err)
	}

	// PUT replaces the member list.
	put := eng.Clone()
	put.Attrs["members"] = []any{map[string]any{"value": bob.ID()}}
	replaced, err = st.Replace(ctx, dir, put, "")
	if err != nil {
		t.Fatal(err)
	}
	if ids := memberIDs(replaced); !slices.Equal(ids, []string{bob.ID()}) {
		t.Fatalf("members after PUT = %v, want only bob", ids)
	}
}

func memberIDs(r *resource.Resource) []string {
	var ids []string
	for _, m := range asList(r.Attrs["members"]) {
		ids = append(ids, m.(map[string]any)["value"].(string))
	}
	slices.Sort(ids)
	return ids
}

func sorted(s ...string) []string { slices.Sort(s); return s }

func asList(v any) []any { l, _ := v.([]any); return l }
