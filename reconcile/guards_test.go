package reconcile_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/rosterhq/roster/reconcile"
)

// TestAMisspeltFieldFailsAtPlanTime: a mapping that reads a field no
// source user has (givenNmae) is an error at plan time naming the mapping
// line; default(…) says a missing field is meant.
func TestAMisspeltFieldFailsAtPlanTime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.engine.Mapping = reconcile.Mapping{Users: map[string]string{
		"userName":       "mail",
		"name.givenName": "givenNmae",
		"title":          "default(title)",
	}, Where: map[string]string{"name.givenName": "sync.yaml:12"}}
	_, err := f.engine.Plan(context.Background())
	if err == nil || !strings.Contains(err.Error(), "sync.yaml:12: mapping name.givenName: no source user has a field givenNmae") {
		t.Fatalf("plan: %v", err)
	}
	if strings.Contains(err.Error(), "title") {
		t.Fatalf("a field read inside default() was refused: %v", err)
	}
	if n := f.count.take(); n != 0 {
		t.Fatalf("%d writes", n)
	}
}

// TestClearingAnAttributeForManyIsRefused: a plan that clears a mapped
// attribute for more users than the mass-change limit is refused, naming
// the mapping line, unless mass changes are allowed; clearing it for one
// is not.
func TestClearingAnAttributeForManyIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.engine.Policy.MaxDeprovision = 1
	for _, u := range f.src.snap.Users {
		u.Attributes["title"] = []string{"Engineer"}
	}
	f.engine.Mapping = reconcile.DefaultMapping()
	f.engine.Mapping.Where = map[string]string{"title": "sync.yaml:20"}
	f.run(t)
	delete(f.src.snap.Users[0].Attributes, "title") // one: fine
	if p, _, _ := f.run(t); len(p.Refused) > 0 || p.Counts.Update != 1 {
		t.Fatalf("clearing one title: %+v, refused %q", p.Counts, p.Refused)
	}
	for _, u := range f.src.snap.Users {
		delete(u.Attributes, "title")
	}
	p, err := f.engine.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(p.Refused, "\n"), "clears title (sync.yaml:20) for 3 of the 4 users") {
		t.Fatalf("refused: %q", p.Refused)
	}
	if _, err := f.engine.Apply(ctx, p, false); !errors.Is(err, reconcile.ErrRefused) {
		t.Fatalf("apply: %v", err)
	}
	if res, err := f.engine.Apply(ctx, p, true); err != nil || res.Done.Update != 3 {
		t.Fatalf("apply allowing mass changes: %v, %+v", err, res)
	}
}

// TestRetireGroupsPolicies: keep (the default) keeps a group gone from
// the source and the plan says how many it kept; rename renames it
// "(removed) …" and removes its members, once, and the plans after say
// how many it retired already; true in YAML is delete.
func TestRetireGroupsPolicies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.run(t)
	f.src.snap.Groups = f.src.snap.Groups[:1] // Compilers is gone
	p, _, _ := f.run(t)
	if p.Counts.GroupRetire != 0 || len(p.Notes) != 1 || p.Notes[0] != "1 group gone from the source is kept (policy.retireGroups: keep)" {
		t.Fatalf("keep: %+v, notes %q", p.Counts, p.Notes)
	}
	f.engine.Policy.RetireGroups = reconcile.RetireRename
	if p, _, _ := f.run(t); p.Counts.GroupRetire != 1 || p.Counts.MembersRemove != 1 {
		t.Fatalf("rename: %+v", p.Counts)
	}
	if got := f.members(t, "(removed) Compilers"); len(got) != 0 {
		t.Fatalf("(removed) Compilers has members %v", got)
	}
	// Retired already, the group still has its line in the plan (issue
	// 14: a line for each policy).
	if p, _, writes := f.run(t); p.Counts.Writes() != 0 || writes != 0 || len(p.Notes) != 1 ||
		p.Notes[0] != "1 group gone from the source is retired already: renamed (removed)…, without members (policy.retireGroups: rename)" {
		t.Fatalf("after the rename: %+v, %d writes, notes %q", p.Counts, writes, p.Notes)
	}
	for text, want := range map[string]reconcile.RetirePolicy{"true": reconcile.RetireDelete, "false": reconcile.RetireKeep,
		"rename": reconcile.RetireRename, "Delete": reconcile.RetireDelete} {
		var got reconcile.RetirePolicy
		if err := yaml.Unmarshal([]byte(text), &got); err != nil || got != want {
			t.Errorf("%s: %q, %v", text, got, err)
		}
	}
	var bad reconcile.RetirePolicy
	if err := yaml.Unmarshal([]byte("archive"), &bad); err == nil {
		t.Error("archive was taken")
	}
}

// TestPrimaryGroupIsMapped: mapping.primaryGroup writes a user's primary
// group to a user attribute of the target: the first group of the source
// the user is in, or the one a source field names; it follows a move.
func TestPrimaryGroupIsMapped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	const department = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
	f.engine.Mapping = reconcile.DefaultMapping()
	f.engine.Mapping.PrimaryGroup = reconcile.PrimaryGroup{Path: department, Value: `upper(name)`}
	f.run(t)
	dept := func(name string) string {
		t.Helper()
		u, err := f.c.Users.ByUserName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		full, err := f.c.Users.Get(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if full.Enterprise == nil {
			return ""
		}
		return full.Enterprise.Department
	}
	if got := [3]string{dept("ada@example.com"), dept("grace@example.com"), dept("edsger@example.com")}; got != [3]string{"ENGINEERING", "COMPILERS", ""} {
		t.Fatalf("departments %q", got)
	}
	// A source field names Ada's primary team: Compilers, by name.
	f.src.snap.Users[0].Attributes["team"] = []string{"compilers"}
	f.engine.Mapping.PrimaryGroup.From = "team"
	// Ada to Compilers; Alan and Grace, without a team field, to none.
	if p, _, _ := f.run(t); p.Counts.Update != 3 {
		t.Fatalf("plan %+v", p.Counts)
	}
	if got := dept("ada@example.com"); got != "COMPILERS" {
		t.Fatalf("Ada's department: %q", got)
	}
	if p, _, writes := f.run(t); p.Counts.Writes() != 0 || writes != 0 {
		t.Fatalf("converged: %+v, %d writes", p.Counts, writes)
	}
}
