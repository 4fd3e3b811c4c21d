package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/client"
)

func TestUsersCreateFromFlagsFileAndStdin(t *testing.T) {
	t.Parallel()
	srv := newRoster(t)
	with := func(args ...string) []string { return append(args, srv...) }

	out := must(t, with("users", "create", "--user-name", "alice@example.com", "--given-name", "Alice", "--family-name", "Ng",
		"--email", "alice@example.com", "--email", "alice@home.example", "--active", "--external-id", "okta-1")...)
	rs := rows(t, out)
	if len(rs) != 1 || rs[0][1] != "alice@example.com" || !slices.Equal(rs[0][2:], []string{"Alice", "Ng", "true", "alice@example.com,alice@home.example"}) {
		t.Fatalf("create from flags printed %q", out)
	}

	file := filepath.Join(t.TempDir(), "bob.json")
	bob := `{"userName":"bob@example.com","displayName":"Bob","active":false,"roles":[{"value":"admin"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}}`
	if err := os.WriteFile(file, []byte(bob), 0o600); err != nil {
		t.Fatal(err)
	}
	out = must(t, with("users", "create", "-f", file, "-o", "json")...)
	objs := jsonLines(t, out)
	if len(objs) != 1 || objs[0]["userName"] != "bob@example.com" || objs[0]["active"] != false || objs[0]["id"] == "" {
		t.Fatalf("create from a file printed %v", objs)
	}
	ent, _ := objs[0]["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
	if !strings.Contains(out, `"roles":[{"value":"admin"}]`) || ent["department"] != "R&D" {
		t.Fatalf("the file's roles or enterprise department did not get through: %s", out)
	}

	r := runIn(t, `{"userName":"carol@example.com"}`, with("users", "create", "-f", "-")...)
	if r.fail != nil || !strings.Contains(r.out, "carol@example.com") {
		t.Fatalf("create from stdin: %v, %q, %q", r.fail, r.out, r.err)
	}

	out = must(t, with("users", "create", "--user-name", "dave", "--active=false")...)
	if rs := rows(t, out); rs[0][2] != "-" || rs[0][3] != "false" {
		t.Fatalf("--active=false printed %q", out)
	}
}

func TestUsersListGetAndChange(t *testing.T) {
	t.Parallel()
	srv := newRoster(t)
	with := func(args ...string) []string { return append(args, srv...) }
	for _, name := range []string{"alice", "bob", "carol"} {
		must(t, with("users", "create", "--user-name", name, "--display-name", strings.ToUpper(name))...)
	}

	out := must(t, with("users", "list")...)
	if !strings.HasPrefix(out, "ID") || !strings.Contains(out, "USERNAME") || len(rows(t, out)) != 3 {
		t.Fatalf("users list printed %q", out)
	}
	users := jsonLines(t, must(t, with("users", "list", "-o", "json")...))
	ids := map[string]string{}
	for _, u := range users {
		ids[u["userName"].(string)] = u["id"].(string)
	}
	if len(users) != 3 || len(ids) != 3 {
		t.Fatalf("users list -o json printed %v", users)
	}
	if got := jsonLines(t, must(t, with("users", "list", "-o", "json", "--count", "2")...)); len(got) != 2 {
		t.Fatalf("--count 2 listed %d users", len(got))
	}
	got := jsonLines(t, must(t, with("users", "list", "-o", "json", "--filter", `userName sw "c"`, "--attributes", "userName")...))
	if len(got) != 1 || got[0]["userName"] != "carol" || got[0]["displayName"] != nil {
		t.Fatalf("--filter and --attributes listed %v", got)
	}
	if out := must(t, with("users", "list", "--filter", `userName eq "nobody"`)...); len(rows(t, out)) != 0 {
		t.Fatalf("an empty list printed %q", out)
	}

	alice := ids["alice"]
	if out := must(t, with("users", "get", alice)...); !strings.Contains(out, "ALICE") {
		t.Fatalf("users get printed %q", out)
	}
	must(t, with("users", "deactivate", alice, ids["bob"])...)
	for _, id := range []string{alice, ids["bob"]} {
		if u := jsonLines(t, must(t, with("users", "get", id, "-o", "json")...)); u[0]["active"] != false {
			t.Fatalf("after deactivate: %v", u)
		}
	}
	must(t, with("users", "activate", alice)...)

	u := jsonLines(t, must(t, with("users", "patch", alice, "-o", "json",
		"--op", `{"op":"replace","path":"title","value":"Engineer"}`, "--op", `{"op":"replace","path":"active","value":false}`)...))
	if u[0]["title"] != "Engineer" || u[0]["active"] != false {
		t.Fatalf("patch --op printed %v", u)
	}
	dir := t.TempDir()
	for name, body := range map[string]string{
		"request.json": `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"nickName","value":"Al"}]}`,
		"array.json":   `[{"op":"add","path":"emails","value":[{"value":"al@example.com"}]}]`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		must(t, with("users", "patch", alice, "-f", path)...)
	}
	u = jsonLines(t, must(t, with("users", "get", alice, "-o", "json")...))
	if u[0]["nickName"] != "Al" || !strings.Contains(must(t, with("users", "get", alice)...), "al@example.com") {
		t.Fatalf("after patch -f: %v", u)
	}

	// update: PUT what get printed, edited; with its version, a stale
	// copy is refused.
	edited := strings.Replace(must(t, with("users", "get", alice, "-o", "json")...), `"title":"Engineer"`, `"title":"Manager"`, 1)
	r := runIn(t, edited, with("users", "update", alice, "-f", "-", "-o", "json")...)
	if r.fail != nil || !strings.Contains(r.out, `"title":"Manager"`) || strings.Contains(r.out, "Engineer") {
		t.Fatalf("update: %v, %q, %q", r.fail, r.out, r.err)
	}
	r = runIn(t, edited, with("users", "update", alice, "-f", "-")...)
	if r.fail == nil || !strings.Contains(r.err, "412 Precondition Failed") {
		t.Fatalf("a stale update: %v, %q", r.fail, r.err)
	}
	if r = runIn(t, "", with("users", "patch", alice, "--if-match", `W/"1"`, "--op", `{"op":"remove","path":"title"}`)...); r.fail == nil || !strings.Contains(r.err, "412") {
		t.Fatalf("a patch --if-match of an old version: %v, %q", r.fail, r.err)
	}

	must(t, with("users", "delete", alice, ids["carol"])...)
	if r := runIn(t, "", with("users", "get", alice)...); r.fail == nil || !strings.Contains(r.err, "404 Not Found") {
		t.Fatalf("get after delete: %v, %q", r.fail, r.err)
	}
	if got := jsonLines(t, must(t, with("users", "list", "-o", "json")...)); len(got) != 1 || got[0]["userName"] != "bob" {
		t.Fatalf("after deleting two of three: %v", got)
	}
}

func TestUsersListPagesThroughEveryUser(t *testing.T) {
	t.Parallel()
	srv := newRoster(t)
	c, err := client.New(srv[1], client.WithToken(srv[3]))
	if err != nil {
		t.Fatal(err)
	}
	const n = 250 // more than two of the pages All asks for
	for i := range n {
		if _, err := c.Users.Create(context.Background(), &client.User{UserName: fmt.Sprintf("user%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := jsonLines(t, must(t, append([]string{"users", "list", "-o", "json"}, srv...)...)); len(got) != n {
		t.Fatalf("listed %d users, want %d", len(got), n)
	}
	if got := rows(t, must(t, append([]string{"users", "list", "--count", "120"}, srv...)...)); len(got) != 120 {
		t.Fatalf("--count 120 listed %d users", len(got))
	}
	// Sorted, the pages go by startIndex (a cursor does not sort).
	sorted := jsonLines(t, must(t, append([]string{"users", "list", "-o", "json", "--sort-by", "userName", "--sort-order", "descending"}, srv...)...))
	if len(sorted) != n {
		t.Fatalf("sorted, listed %d users, want %d", len(sorted), n)
	}
	for i, u := range sorted {
		if want := fmt.Sprintf("user%03d", n-1-i); u["userName"] != want {
			t.Fatalf("sorted descending, user %d is %v, want %s", i, u["userName"], want)
		}
	}
}

func TestUserCommandsTakeAUserNameWhereTheyTakeAnID(t *testing.T) {
	t.Parallel()
	srv := newRoster(t)
	with := func(args ...string) []string { return append(args, srv...) }
	alice := jsonLines(t, must(t, with("users", "create", "--user-name", "alice@example.com", "-o", "json")...))[0]["id"].(string)
	bob := jsonLines(t, must(t, with("users", "create", "--user-name", "bob@example.com", "-o", "json")...))[0]["id"].(string)
	get := func(arg string) map[string]any {
		t.Helper()
		return jsonLines(t, must(t, with("users", "get", arg, "-o", "json")...))[0]
	}

	// A userName, in any case, finds the user as its id does.
	for _, arg := range []string{alice, "alice@example.com", "ALICE@example.com"} {
		if u := get(arg); u["id"] != alice {
			t.Fatalf("users get %s found %v, want alice", arg, u)
		}
	}
	if u := jsonLines(t, must(t, with("users", "get", "bob@example.com", "--attributes", "emails", "-o", "json")...))[0]; u["id"] != bob || u["userName"] != nil {
		t.Fatalf("users get by userName with --attributes: %v", u)
	}

	must(t, with("users", "deactivate", "alice@example.com", bob)...)
	if get(alice)["active"] != false || get(bob)["active"] != false {
		t.Fatal("deactivate by userName and id did not deactivate both")
	}
	must(t, with("users", "activate", "bob@example.com")...)
	if get(bob)["active"] != true || get(alice)["active"] != false {
		t.Fatal("activate by userName did not activate bob alone")
	}
	if u := jsonLines(t, must(t, with("users", "patch", "alice@example.com", "-o", "json", "--op", `{"op":"replace","path":"title","value":"CTO"}`)...))[0]; u["id"] != alice || u["title"] != "CTO" {
		t.Fatalf("patch by userName printed %v", u)
	}
	edited := strings.Replace(must(t, with("users", "get", alice, "-o", "json")...), `"title":"CTO"`, `"title":"CEO"`, 1)
	if r := runIn(t, edited, with("users", "update", "alice@example.com", "-f", "-")...); r.fail != nil {
		t.Fatalf("update by userName: %v, %q", r.fail, r.err)
	}
	if get(alice)["title"] != "CEO" {
		t.Fatal("update by userName did not replace alice")
	}

	must(t, with("users", "delete", "alice@example.com")...)
	if r := runIn(t, "", with("users", "get", "alice@example.com")...); r.fail == nil || !strings.Contains(r.err, `no user has id or userName "alice@example.com"`) {
		t.Fatalf("get by the userName of a deleted user: %v, %q", r.fail, r.err)
	}
	if got := jsonLines(t, must(t, with("users", "list", "-o", "json")...)); len(got) != 1 || got[0]["id"] != bob {
		t.Fatalf("delete by userName left %v", got)
	}
}

func TestUsersListSorts(t *testing.T) {
	t.Parallel()
	srv := newRoster(t)
	with := func(args ...string) []string { return append(args, srv...) }
	for _, name := range []string{"bob", "carol", "alice"} {
		must(t, with("users", "create", "--user-name", name)...)
	}
	names := func(args ...string) []string {
		t.Helper()
		var got []string
		for _, u := range jsonLines(t, must(t, with(append([]string{"users", "list", "-o", "json"}, args...)...)...)) {
			got = append(got, u["userName"].(string))
		}
		return got
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--sort-by", "userName"}, []string{"alice", "bob", "carol"}},
		{[]string{"--sort-by", "userName", "--sort-order", "ascending"}, []string{"alice", "bob", "carol"}},
		{[]string{"--sort-by", "userName", "--sort-order", "descending"}, []string{"carol", "bob", "alice"}},
		{[]string{"--sort-by", "userName", "--sort-order", "Descending", "--count", "2"}, []string{"carol", "bob"}},
	} {
		if got := names(tc.args...); !slices.Equal(got, tc.want) {
			t.Errorf("users list %s: %v, want %v", strings.Join(tc.args, " "), got, tc.want)
		}
	}
	if r := runIn(t, "", with("users", "list", "--sort-by", "nope")...); r.fail == nil || !strings.Contains(r.err, "400 Bad Request") {
		t.Fatalf("--sort-by an unknown attribute: %v, %q", r.fail, r.err)
	}
}

// TestOutputIDPrintsEachID: -o id prints the id of each resource a
// command shows, a line each, so that a shell can capture it:
// ID=$(roster users create … -o id).
func TestOutputIDPrintsEachID(t *testing.T) {
	t.Parallel()
	srv := newRoster(t)
	with := func(args ...string) []string { return append(append(args, "-o", "id"), srv...) }
	alice := must(t, with("users", "create", "--user-name", "alice")...)
	bob := must(t, with("users", "create", "--user-name", "bob")...)
	eng := must(t, with("groups", "create", "--display-name", "Engineering", "--member", strings.TrimSpace(alice))...)
	for _, id := range []string{alice, bob, eng} {
		if strings.Count(id, "\n") != 1 || !strings.HasSuffix(id, "\n") || strings.ContainsAny(strings.TrimSpace(id), " \t") {
			t.Fatalf("-o id printed %q, want an id and a newline", id)
		}
	}
	if got := must(t, with("users", "get", "ALICE")...); got != alice {
		t.Errorf("users get -o id printed %q, want %q", got, alice)
	}
	if got := must(t, with("users", "list", "--sort-by", "userName")...); got != alice+bob {
		t.Errorf("users list -o id printed %q, want %q", got, alice+bob)
	}
	if got := must(t, with("groups", "list")...); got != eng {
		t.Errorf("groups list -o id printed %q, want %q", got, eng)
	}
	if u := jsonLines(t, must(t, append([]string{"users", "get", strings.TrimSpace(alice), "-o", "json"}, srv...)...)); u[0]["userName"] != "alice" {
		t.Errorf("the id users create -o id printed is %v's", u[0]["userName"])
	}
	if r := runIn(t, "", append([]string{"discover", "-o", "id"}, srv...)...); r.fail == nil || !strings.Contains(r.err, "table or json") {
		t.Errorf("discover -o id: %v, %q; want it refused", r.fail, r.err)
	}
}
