package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

func TestGroupsCommands(t *testing.T) {
	t.Parallel()
	srv := newRoster(t)
	with := func(args ...string) []string { return append(args, srv...) }
	var ids []string
	for _, name := range []string{"alice", "bob", "carol"} {
		u := jsonLines(t, must(t, with("users", "create", "--user-name", name, "-o", "json")...))
		ids = append(ids, u[0]["id"].(string))
	}

	out := must(t, with("groups", "create", "--display-name", "Engineering", "--member", ids[0], "--external-id", "okta-g1")...)
	rs := rows(t, out)
	if len(rs) != 1 || !slices.Equal(rs[0][1:], []string{"Engineering", "1"}) {
		t.Fatalf("groups create printed %q", out)
	}
	eng := rs[0][0]

	file := filepath.Join(t.TempDir(), "ops.json")
	if err := os.WriteFile(file, []byte(`{"displayName":"Operations","members":[{"value":"`+ids[1]+`"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ops := jsonLines(t, must(t, with("groups", "create", "-f", file, "-o", "json")...))[0]["id"].(string)
	r := runIn(t, `{"displayName":"Empty"}`, with("groups", "create", "-f", "-")...)
	if r.fail != nil || !strings.Contains(r.out, "Empty") {
		t.Fatalf("groups create from stdin: %v, %q", r.fail, r.err)
	}

	must(t, with("groups", "add-members", eng, ids[1], ids[2])...)
	if out := must(t, with("groups", "get", eng)...); rows(t, out)[0][2] != "3" {
		t.Fatalf("after add-members: %q", out)
	}
	must(t, with("groups", "remove-members", eng, ids[0], ids[2])...)
	g := jsonLines(t, must(t, with("groups", "get", eng, "-o", "json")...))[0]
	members, _ := g["members"].([]any)
	if len(members) != 1 || members[0].(map[string]any)["value"] != ids[1] {
		t.Fatalf("after remove-members: %v", g)
	}

	// bob is in Engineering and Operations; his groups say so.
	if u := jsonLines(t, must(t, with("users", "get", ids[1], "-o", "json")...))[0]; len(u["groups"].([]any)) != 2 {
		t.Fatalf("bob's groups: %v", u["groups"])
	}
	out = must(t, with("groups", "list")...)
	if got := rows(t, out); len(got) != 3 || !strings.Contains(out, "DISPLAYNAME") || !strings.Contains(out, "MEMBERS") {
		t.Fatalf("groups list printed %q", out)
	}
	if got := jsonLines(t, must(t, with("groups", "list", "-o", "json", "--filter", `displayName eq "operations"`)...)); len(got) != 1 || got[0]["id"] != ops {
		t.Fatalf("groups list --filter: %v", got)
	}

	must(t, with("groups", "delete", eng, ops)...)
	if r := runIn(t, "", with("groups", "get", eng)...); r.fail == nil || !strings.Contains(r.err, "404 Not Found") {
		t.Fatalf("get after delete: %v, %q", r.fail, r.err)
	}
	if got := jsonLines(t, must(t, with("users", "list", "-o", "json")...)); len(got) != 3 {
		t.Fatalf("deleting groups deleted users: %v", got)
	}
}

func TestGroupCommandsTakeNamesWhereTheyTakeIDs(t *testing.T) {
	t.Parallel()
	srv := newRoster(t)
	with := func(args ...string) []string { return append(args, srv...) }
	id := func(args ...string) string {
		t.Helper()
		return jsonLines(t, must(t, with(append(args, "-o", "json")...)...))[0]["id"].(string)
	}
	alice := id("users", "create", "--user-name", "alice@example.com")
	bob := id("users", "create", "--user-name", "bob@example.com")
	eng := id("groups", "create", "--display-name", "Engineering")
	ops := id("groups", "create", "--display-name", "Operations")
	members := func(group string) []string {
		t.Helper()
		g := jsonLines(t, must(t, with("groups", "get", group, "-o", "json")...))[0]
		var ids []string
		for _, m := range g["members"].([]any) {
			ids = append(ids, m.(map[string]any)["value"].(string))
		}
		slices.Sort(ids)
		return ids
	}

	if g := jsonLines(t, must(t, with("groups", "get", "engineering", "-o", "json")...))[0]; g["id"] != eng {
		t.Fatalf("groups get by displayName found %v", g)
	}
	// Members by userName, by a group's displayName and by id, together.
	must(t, with("groups", "add-members", "Engineering", "alice@example.com", "Operations", bob)...)
	want := []string{alice, bob, ops}
	slices.Sort(want)
	if got := members(eng); !slices.Equal(got, want) {
		t.Fatalf("after add-members by name: %v, want %v", got, want)
	}
	must(t, with("groups", "remove-members", "ENGINEERING", "BOB@example.com", "operations")...)
	if got := members(eng); !slices.Equal(got, []string{alice}) {
		t.Fatalf("after remove-members by name: %v, want alice alone", got)
	}

	// A name that is both a user's and a group's is ambiguous as a member.
	must(t, with("users", "create", "--user-name", "Operations")...)
	if r := runIn(t, "", with("groups", "add-members", eng, "Operations")...); r.fail == nil || !strings.Contains(r.err, `more than one user or group has id, userName or displayName "Operations"`) {
		t.Fatalf("an ambiguous member: %v, %q", r.fail, r.err)
	}

	must(t, with("groups", "delete", "Operations")...)
	if r := runIn(t, "", with("groups", "get", ops)...); r.fail == nil || !strings.Contains(r.err, "404 Not Found") {
		t.Fatalf("delete by displayName left the group: %v, %q", r.fail, r.err)
	}
}

func TestGroupsRenameAndPatch(t *testing.T) {
	t.Parallel()
	srv := newRoster(t)
	with := func(args ...string) []string { return append(args, srv...) }
	alice := jsonLines(t, must(t, with("users", "create", "--user-name", "alice", "-o", "json")...))[0]["id"].(string)
	eng := jsonLines(t, must(t, with("groups", "create", "--display-name", "Engineering", "-o", "json")...))[0]["id"].(string)

	out := must(t, with("groups", "rename", "Engineering", "Product Engineering")...)
	if !strings.Contains(out, "Product Engineering") {
		t.Fatalf("rename printed %q", out)
	}
	if g := jsonLines(t, must(t, with("groups", "get", eng, "-o", "json")...))[0]; g["displayName"] != "Product Engineering" {
		t.Fatalf("after rename: %v", g)
	}
	must(t, with("groups", "rename", eng, "R&D")...)
	if g := jsonLines(t, must(t, with("groups", "get", "r&d", "-o", "json")...))[0]; g["id"] != eng {
		t.Fatalf("rename by id, then get by the new name: %v", g)
	}
	if r := runIn(t, "", with("groups", "rename", "Engineering", "X")...); r.fail == nil || !strings.Contains(r.err, `no group has id or displayName "Engineering"`) {
		t.Fatalf("renaming a group by its old name: %v, %q", r.fail, r.err)
	}

	g := jsonLines(t, must(t, with("groups", "patch", "R&D", "-o", "json",
		"--op", `{"op":"replace","path":"externalId","value":"okta-g9"}`,
		"--op", `{"op":"add","path":"members","value":[{"value":"`+alice+`"}]}`)...))[0]
	if g["id"] != eng || g["externalId"] != "okta-g9" || len(g["members"].([]any)) != 1 {
		t.Fatalf("groups patch --op printed %v", g)
	}
	file := filepath.Join(t.TempDir(), "patch.json")
	if err := os.WriteFile(file, []byte(`[{"op":"remove","path":"members[value eq \"`+alice+`\"]"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := must(t, with("groups", "patch", eng, "-f", file)...); rows(t, out)[0][len(rows(t, out)[0])-1] != "0" {
		t.Fatalf("groups patch -f printed %q", out)
	}
	if r := runIn(t, "", with("groups", "patch", eng, "--if-match", `W/"1"`, "--op", `{"op":"remove","path":"externalId"}`)...); r.fail == nil || !strings.Contains(r.err, "412") {
		t.Fatalf("a groups patch --if-match of an old version: %v, %q", r.fail, r.err)
	}
}

func TestGroupsListSorts(t *testing.T) {
	t.Parallel()
	srv := newRoster(t)
	with := func(args ...string) []string { return append(args, srv...) }
	for _, name := range []string{"Sales", "Engineering", "Operations"} {
		must(t, with("groups", "create", "--display-name", name)...)
	}
	var got []string
	for _, g := range jsonLines(t, must(t, with("groups", "list", "-o", "json", "--sort-by", "displayName", "--sort-order", "descending")...)) {
		got = append(got, g["displayName"].(string))
	}
	if want := []string{"Sales", "Operations", "Engineering"}; !slices.Equal(got, want) {
		t.Fatalf("groups sorted descending: %v, want %v", got, want)
	}
}

func TestAGroupNameTwoGroupsShareIsAmbiguous(t *testing.T) {
	t.Parallel()
	// Roster keeps displayNames unique; other servers do not, so this
	// server answers two groups of one name (and any filter with them).
	var deletes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			deletes.Add(1)
		}
		w.Header().Set("Content-Type", "application/scim+json")
		switch r.URL.Path {
		case "/Groups":
			fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":3,"Resources":[
				{"id":"g1","displayName":"Eng"},{"id":"g2","displayName":"ENG"},{"id":"g3","displayName":"Engineering"}]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"not found"}`)
		}
	}))
	t.Cleanup(srv.Close)
	r := runIn(t, "", "groups", "delete", "eng", "--url", srv.URL, "--token", "t")
	if r.fail == nil || !strings.Contains(r.err, `more than one group has id or displayName "eng" (2 groups: g1, g2): give an id`) {
		t.Fatalf("an ambiguous group name: %v, %q", r.fail, r.err)
	}
	if n := deletes.Load(); n != 0 {
		t.Fatalf("an ambiguous group name sent %d DELETE requests", n)
	}
}
