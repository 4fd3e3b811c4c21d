package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestGroupsCommands(t *testing.T) {
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
