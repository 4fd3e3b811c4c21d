package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSuccessSaysWhatWasDone: a command that changes something and
// returns nothing to show prints one line for each change, naming the
// resource and its id, and nothing with -q.
func TestSuccessSaysWhatWasDone(t *testing.T) {
	t.Parallel()
	rs := startRoster(t)
	srv := []string{"--url", rs.url, "--token", rs.token}
	id := func(args ...string) string {
		t.Helper()
		return jsonLines(t, must(t, append(append(args, "-o", "json"), srv...)...))[0]["id"].(string)
	}
	alice := id("users", "create", "--user-name", "alice@example.com")
	bob := id("users", "create", "--user-name", "bob@example.com")
	eng := id("groups", "create", "--display-name", "Engineering")
	ctx := context.Background()
	okta, _, err := rs.st.CreateToken(ctx, rs.dir.ID, "okta-prod", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := rs.st.CreateToken(ctx, rs.dir.ID, "entra", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	c1, _, err := rs.st.CreateClient(ctx, rs.dir.ID, "entra")
	if err != nil {
		t.Fatal(err)
	}
	c2, _, err := rs.st.CreateClient(ctx, rs.dir.ID, "okta")
	if err != nil {
		t.Fatal(err)
	}
	db := []string{"--db", rs.db, "--directory", "acme"}

	for _, tc := range []struct {
		args  []string // with -q added, a second run of the same kind
		quiet []string
		want  string
	}{
		{[]string{"users", "deactivate", "alice@example.com", bob}, []string{"users", "deactivate", "ALICE@example.com"},
			fmt.Sprintf("deactivated alice@example.com (id %s)\ndeactivated bob@example.com (id %s)\n", alice, bob)},
		{[]string{"users", "activate", alice}, []string{"users", "activate", alice},
			fmt.Sprintf("activated alice@example.com (id %s)\n", alice)},
		{[]string{"groups", "add-members", "engineering", "alice@example.com", bob}, []string{"groups", "add-members", eng, alice},
			fmt.Sprintf("added alice@example.com (id %s) to Engineering (id %s)\nadded bob@example.com (id %s) to Engineering (id %s)\n", alice, eng, bob, eng)},
		{[]string{"groups", "remove-members", "Engineering", bob}, []string{"groups", "remove-members", "Engineering", alice},
			fmt.Sprintf("removed bob@example.com (id %s) from Engineering (id %s)\n", bob, eng)},
		{[]string{"users", "delete", "bob@example.com"}, []string{"users", "delete", alice},
			fmt.Sprintf("deleted bob@example.com (id %s)\n", bob)},
		{[]string{"groups", "delete", eng}, nil,
			fmt.Sprintf("deleted Engineering (id %s)\n", eng)},
		{append([]string{"token", "revoke", "okta-prod"}, db...), append([]string{"token", "revoke", tok.ID}, db...),
			fmt.Sprintf("revoked token okta-prod (id %s) of directory acme\n", okta.ID)},
		{append([]string{"client", "revoke", c1.ID}, db...), append([]string{"client", "revoke", c2.ID}, db...),
			fmt.Sprintf("revoked client entra (id %s) of directory acme\n", c1.ID)},
	} {
		t.Run(strings.Join(tc.args[:2], " "), func(t *testing.T) {
			if tc.args[0] == "users" || tc.args[0] == "groups" {
				tc.args = append(tc.args, srv...)
				if tc.quiet != nil {
					tc.quiet = append(tc.quiet, srv...)
				}
			}
			if out := must(t, tc.args...); out != tc.want {
				t.Errorf("roster %s printed %q, want %q", strings.Join(tc.args, " "), out, tc.want)
			}
			if tc.quiet == nil {
				return
			}
			if out := must(t, append(tc.quiet, "-q")...); out != "" {
				t.Errorf("roster %s -q printed %q, want nothing", strings.Join(tc.quiet, " "), out)
			}
		})
	}
}

// TestANameThatMatchesNothingChangesNothing: users deactivate finds every
// user before it changes one.
func TestANameThatMatchesNothingChangesNothing(t *testing.T) {
	t.Parallel()
	srv := newRoster(t)
	must(t, append([]string{"users", "create", "--user-name", "alice", "--active"}, srv...)...)
	if r := runIn(t, "", append([]string{"users", "deactivate", "alice", "nobody"}, srv...)...); r.fail == nil || r.out != "" {
		t.Fatalf("deactivate alice nobody: %v, %q", r.fail, r.out)
	}
	if u := jsonLines(t, must(t, append([]string{"users", "get", "alice", "-o", "json"}, srv...)...)); u[0]["active"] != true {
		t.Fatalf("alice was deactivated though nobody matched nothing: %v", u)
	}
}
