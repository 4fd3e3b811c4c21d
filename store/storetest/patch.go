package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

func ops(operations ...string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(operations, ",") + `]}`
}

func (s *suite) patch(t *testing.T, st store.Store, dir string, rt *schema.ResourceType, id, body, ifVersion string) (*resource.Resource, error) {
	t.Helper()
	return s.patchCtx(context.Background(), t, st, dir, rt, id, body, ifVersion)
}

func (s *suite) patchCtx(ctx context.Context, t *testing.T, st store.Store, dir string, rt *schema.ResourceType, id, body, ifVersion string) (*resource.Resource, error) {
	t.Helper()
	req, err := patch.Parse(rt, []byte(body), resource.Options{})
	if err != nil {
		t.Fatalf("patch.Parse(%s): %v", body, err)
	}
	return st.Patch(ctx, dir, rt, id, req, ifVersion, true)
}

func (s *suite) testPatchUsers(t *testing.T) {
	st, dir := s.setup(t)
	u := s.create(t, st, dir, s.users, `{"userName":"ann@example.com","active":true}`)

	// Okta deactivation.
	got, err := s.patch(t, st, dir, s.users, u.ID(), ops(`{"op":"replace","value":{"active":false}}`), u.Meta().Version)
	if err != nil {
		t.Fatal(err)
	}
	if got.Attrs["active"] != false || got.Meta().Version != `W/"2"` {
		t.Fatalf("after deactivation: active %v version %s, want false and W/\"2\"", got.Attrs["active"], got.Meta().Version)
	}
	// The same PATCH again changes nothing, so the version stays.
	got, err = s.patch(t, st, dir, s.users, u.ID(), ops(`{"op":"Replace","path":"active","value":"False"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta().Version != `W/"2"` {
		t.Errorf("a PATCH that changed nothing moved the version to %s", got.Meta().Version)
	}
	// Entra's path-less value with dotted and URN-qualified names.
	got, err = s.patch(t, st, dir, s.users, u.ID(), ops(`{"op":"Replace","value":{"name.givenName":"Ann",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"R&D"}}`), "")
	if err != nil {
		t.Fatal(err)
	}
	ext, _ := got.Attrs[schema.EnterpriseUserURN].(map[string]any)
	if name, _ := got.Attrs["name"].(map[string]any); name["givenName"] != "Ann" || ext["department"] != "R&D" {
		t.Fatalf("after Entra's PATCH: %v", got.Attrs)
	}

	// A sub-attribute without a filter names it in every value (RFC 7644
	// §3.5.2.3): hosted SCIM services change a user's address with
	// emails.value, and the filters see the new address, not the old.
	got, err = s.patch(t, st, dir, s.users, u.ID(), ops(`{"op":"add","path":"emails","value":[{"value":"ann@old.example","type":"work"}]}`), "")
	if err != nil {
		t.Fatal(err)
	}
	got, err = s.patch(t, st, dir, s.users, u.ID(), ops(`{"op":"replace","path":"emails.value","value":"ann@new.example"}`), "")
	if err != nil {
		t.Fatalf("replace of emails.value: %v", err)
	}
	if emails, _ := got.Attrs["emails"].([]any); len(emails) != 1 || fmt.Sprint(emails[0]) != "map[type:work value:ann@new.example]" {
		t.Fatalf("after replace of emails.value: emails %v, want one work email ann@new.example", got.Attrs["emails"])
	}
	found := func(f string) int {
		t.Helper()
		e, err := filter.Parse(f, s.users)
		if err != nil {
			t.Fatal(err)
		}
		p, err := st.List(context.Background(), dir, store.Query{Type: s.users, Filter: e, Count: 10})
		if err != nil {
			t.Fatalf("List(%s): %v", f, err)
		}
		return p.Total
	}
	if n, m := found(`emails.value eq "ann@new.example"`), found(`emails.value eq "ann@old.example"`); n != 1 || m != 0 {
		t.Fatalf("after replace of emails.value, the filter finds the new address %d times and the old %d, want 1 and 0", n, m)
	}
	got, err = s.patch(t, st, dir, s.users, u.ID(), ops(`{"op":"remove","path":"emails.type"}`), "")
	if err != nil {
		t.Fatalf("remove of emails.type: %v", err)
	}
	if emails, _ := got.Attrs["emails"].([]any); len(emails) != 1 || fmt.Sprint(emails[0]) != "map[value:ann@new.example]" {
		t.Fatalf("after remove of emails.type: emails %v, want one email ann@new.example without a type", got.Attrs["emails"])
	}
	if n := found(`emails[type eq "work"]`); n != 0 {
		t.Fatalf(`after remove of emails.type, emails[type eq "work"] finds %d users, want none`, n)
	}

	_, err = s.patch(t, st, dir, s.users, u.ID(), ops(`{"op":"replace","path":"title","value":"x"}`), `W/"1"`)
	wantErr(t, "PATCH with a stale version", err, store.ErrPreconditionFailed)
	_, err = s.patch(t, st, dir, s.users, "no-such-id", ops(`{"op":"replace","path":"title","value":"x"}`), "")
	wantErr(t, "PATCH of an unknown id", err, store.ErrNotFound)

	// A rename onto another user's userName conflicts and changes nothing.
	s.create(t, st, dir, s.users, `{"userName":"bob@example.com"}`)
	_, err = s.patch(t, st, dir, s.users, u.ID(), ops(`{"op":"replace","path":"userName","value":"BOB@example.com"}`), "")
	wantErr(t, "PATCH onto a taken userName", err, store.ErrConflict)
	// A request error is a *scim.Error and changes nothing.
	_, err = s.patch(t, st, dir, s.users, u.ID(), ops(`{"op":"replace","path":"title","value":"Boss"}`, `{"op":"remove","path":"userName"}`), "")
	var serr *scim.Error
	if !errors.As(err, &serr) || serr.ScimType != scim.Mutability {
		t.Fatalf("removing userName: got %v, want a 400 mutability *scim.Error", err)
	}
	after, err := st.Get(context.Background(), dir, s.users, u.ID(), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := after.Attrs["title"]; ok || after.Attrs["userName"] != "ann@example.com" {
		t.Fatalf("failed PATCHes changed the user: %v", after.Attrs)
	}
}

func (s *suite) testPatchMembers(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	var ids []string
	for i := range 6 {
		ids = append(ids, s.create(t, st, dir, s.users, fmt.Sprintf(`{"userName":"user%d"}`, i)).ID())
	}
	g := s.create(t, st, dir, s.groups, `{"displayName":"Eng","members":[]}`)
	sub := s.create(t, st, dir, s.groups, `{"displayName":"Sub"}`)
	member := func(i int) string { return fmt.Sprintf(`{"value":%q}`, ids[i]) }

	steps := []struct {
		name string
		body string
		want []string
	}{
		{"Entra adds several members in one operation",
			ops(`{"op":"Add","path":"members","value":[` + member(0) + `,` + member(1) + `,` + member(2) + `]}`),
			[]string{ids[0], ids[1], ids[2]}},
		{"Okta renames with the group id and adds a member with its display",
			ops(`{"op":"replace","value":{"id":"`+g.ID()+`","displayName":"Engineering"}}`,
				`{"op":"add","path":"members","value":[{"value":"`+ids[3]+`","display":"user3"}]}`),
			[]string{ids[0], ids[1], ids[2], ids[3]}},
		{"adding a member twice keeps one",
			ops(`{"op":"add","path":"members","value":[` + member(0) + `]}`),
			[]string{ids[0], ids[1], ids[2], ids[3]}},
		{"Okta removes one member through a filter",
			ops(`{"op":"remove","path":"members[value eq \"` + ids[1] + `\"]"}`),
			[]string{ids[0], ids[2], ids[3]}},
		{"Entra removes members listed in the value",
			ops(`{"op":"Remove","path":"members","value":[` + member(0) + `,` + member(5) + `]}`),
			[]string{ids[2], ids[3]}},
		{"a nested group joins, then members of type Group are removed",
			ops(`{"op":"add","path":"members","value":[{"value":"`+sub.ID()+`","type":"Group"}]}`,
				`{"op":"remove","path":"members[type eq \"Group\"]"}`),
			[]string{ids[2], ids[3]}},
		{"Okta replaces the members with the full list",
			ops(`{"op":"replace","path":"members","value":[` + member(4) + `,` + member(5) + `]}`),
			[]string{ids[4], ids[5]}},
		{"remove of members without a value removes them all",
			ops(`{"op":"remove","path":"members"}`),
			nil},
	}
	for _, step := range steps {
		got, err := s.patch(t, st, dir, s.groups, g.ID(), step.body, "")
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if m := memberIDs(got); !slices.Equal(m, sorted(step.want...)) {
			t.Fatalf("%s: members = %v, want %v", step.name, m, sorted(step.want...))
		}
	}
	got, err := st.Get(ctx, dir, s.groups, g.ID(), false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Attrs["displayName"] != "Engineering" {
		t.Errorf("displayName = %v, want Engineering", got.Attrs["displayName"])
	}

	// A failing operation after member changes undoes them.
	_, err = s.patch(t, st, dir, s.groups, g.ID(), ops(`{"op":"add","path":"members","value":[`+member(0)+`]}`,
		`{"op":"remove","path":"displayName"}`), "")
	if err == nil {
		t.Fatal("removing the required displayName succeeded")
	}
	got, err = st.Get(ctx, dir, s.groups, g.ID(), true)
	if err != nil {
		t.Fatal(err)
	}
	if m := memberIDs(got); len(m) != 0 {
		t.Fatalf("a failed PATCH left members %v", m)
	}
	// An add naming one member that does not exist fails whole; one that
	// names the group itself too; a member twice in one add is added once.
	for name, body := range map[string]string{
		"an unknown member beside a real one": ops(`{"op":"add","path":"members","value":[` + member(0) + `,{"value":"no-such-user"}]}`),
		"the group itself":                    ops(`{"op":"add","path":"members","value":[` + member(0) + `,{"value":"` + g.ID() + `"}]}`),
	} {
		_, err = s.patch(t, st, dir, s.groups, g.ID(), body, "")
		if serr := (*scim.Error)(nil); !errors.As(err, &serr) || serr.ScimType != scim.InvalidValue {
			t.Fatalf("adding %s: got %v, want a 400 invalidValue *scim.Error", name, err)
		}
	}
	got, err = s.patch(t, st, dir, s.groups, g.ID(), ops(`{"op":"add","path":"members","value":[`+member(1)+`,`+member(1)+`]}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if m := memberIDs(got); !slices.Equal(m, []string{ids[1]}) {
		t.Fatalf("after failed adds and a doubled one: members %v, want only user1", m)
	}
	got, err = s.patch(t, st, dir, s.groups, g.ID(), ops(`{"op":"remove","path":"members"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	// Removing a member that is not there changes nothing, not even the version.
	v := got.Meta().Version
	got, err = s.patch(t, st, dir, s.groups, g.ID(), ops(`{"op":"remove","path":"members[value eq \"`+ids[0]+`\"]"}`), "")
	if err != nil || got.Meta().Version != v {
		t.Fatalf("removing an absent member: %v, version %s → %s", err, v, got.Meta().Version)
	}
	// A PATCH that adds or removes members by id, under If-Match: a stale
	// version changes nothing; the current one applies and moves on by
	// one. Removing a member that is not there by id changes nothing
	// either.
	v = got.Meta().Version
	_, err = s.patch(t, st, dir, s.groups, g.ID(), ops(`{"op":"add","path":"members","value":[`+member(2)+`]}`), `W/"1"`)
	wantErr(t, "a member add with a stale version", err, store.ErrPreconditionFailed)
	got, err = s.patch(t, st, dir, s.groups, g.ID(), ops(`{"op":"remove","path":"members","value":[`+member(3)+`]}`), v)
	if err != nil || got.Meta().Version != v {
		t.Fatalf("removing an absent member by id: %v, version %s → %s", err, v, got.Meta().Version)
	}
	got, err = s.patch(t, st, dir, s.groups, g.ID(), ops(`{"op":"add","path":"members","value":[`+member(2)+`]}`), v)
	if err != nil {
		t.Fatal(err)
	}
	if m := memberIDs(got); !slices.Equal(m, []string{ids[2]}) || got.Meta().Version == v || got.Attrs["displayName"] != "Engineering" {
		t.Fatalf("a member add under the current version: members %v, version %s (was %s), displayName %v",
			m, got.Meta().Version, v, got.Attrs["displayName"])
	}
	if again, err := st.Get(ctx, dir, s.groups, g.ID(), true); err != nil || again.Meta().Version != got.Meta().Version || !slices.Equal(memberIDs(again), []string{ids[2]}) {
		t.Fatalf("the group after the add: %v, %v", again, err)
	}
	// Without If-Match and without members in the answer (how Okta and
	// Entra add members), an add moves the version and lastModified on,
	// answers the group as stored, and its event names the group.
	v = got.Meta().Version
	last, err := st.LastEventSeq(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	req, err := patch.Parse(s.groups, []byte(ops(`{"op":"add","path":"members","value":[`+member(3)+`]}`)), resource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	added, err := st.Patch(ctx, dir, s.groups, g.ID(), req, "", false)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.Get(ctx, dir, s.groups, g.ID(), true)
	if err != nil {
		t.Fatal(err)
	}
	if added.Meta().Version == v || added.Meta().Version != stored.Meta().Version || !added.Meta().LastModified.Equal(stored.Meta().LastModified) ||
		added.Attrs["displayName"] != "Engineering" || added.Attrs["members"] != nil || !slices.Equal(memberIDs(stored), sorted(ids[2], ids[3])) {
		t.Fatalf("a member add answered without members: version %s (was %s, stored %s), lastModified %v (stored %v), %v; stored members %v",
			added.Meta().Version, v, stored.Meta().Version, added.Meta().LastModified, stored.Meta().LastModified, added.Attrs, memberIDs(stored))
	}
	events, err := st.Events(ctx, store.EventQuery{Directory: dir, After: last, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Type != store.GroupUserAdded || !strings.Contains(string(events[0].Data), `"displayName":"Engineering"`) {
		t.Fatalf("the events of a member add: %+v, want one group.user_added naming Engineering", events)
	}
	// Another directory cannot patch the group.
	other, err := st.CreateDirectory(ctx, "globex")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.patch(t, st, other.ID, s.groups, g.ID(), ops(`{"op":"add","path":"members","value":[`+member(0)+`]}`), "")
	wantErr(t, "PATCH through another directory", err, store.ErrNotFound)
	// A user is not a group: its id under the groups' type is not found,
	// and no member is added to it, nor any event written.
	_, err = s.patch(t, st, dir, s.groups, ids[1], ops(`{"op":"add","path":"members","value":[`+member(0)+`]}`), "")
	wantErr(t, "PATCH of a user's id as a group", err, store.ErrNotFound)
	if after, err := st.Events(ctx, store.EventQuery{Directory: dir, After: events[0].Seq, Limit: 10}); err != nil || len(after) != 0 {
		t.Fatalf("events after a member add to a user: %+v, %v; want none", after, err)
	}
	u, err := st.Get(ctx, dir, s.users, ids[0], true)
	if err != nil {
		t.Fatal(err)
	}
	for _, gr := range asList(u.Attrs["groups"]) {
		if m, _ := gr.(map[string]any); m["value"] == ids[1] {
			t.Fatalf("the user added to another user is in it: groups %v", u.Attrs["groups"])
		}
	}
	// Changing a member's sub-attribute is refused.
	_, err = s.patch(t, st, dir, s.groups, g.ID(), ops(`{"op":"replace","path":"members[value eq \"x\"].display","value":"y"}`), "")
	var serr *scim.Error
	if !errors.As(err, &serr) || serr.Status != 400 {
		t.Fatalf("changing a member's display: got %v, want a 400 *scim.Error", err)
	}
}
