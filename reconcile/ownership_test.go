package reconcile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/reconcile/source"
)

// TestASecondConfigurationLeavesTheFirstsMembersAlone: a second
// configuration with a state of its own, on the same target, adopts
// (explicitly, in its plan) only the users and groups its source names,
// and removes from them no member the first configuration added.
func TestASecondConfigurationLeavesTheFirstsMembersAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, token, _ := startStrictProxy(t, 100, 0)
	first, _ := strictEngine(t, url, token, staff())
	mustSync(t, first)

	// The second knows Ada, a contractor and Engineering only, with Ada
	// alone in it.
	src := &memSource{snap: source.Snapshot{
		Users:  []source.User{staff().snap.Users[0], person("c1", "zed@example.com", "Zed", "Contractor", true)},
		Groups: []source.Group{{ID: "eng", Name: "Engineering", Members: []string{"u1"}}},
	}}
	second, count := strictEngine(t, url, token, src)
	// Taking over what another configuration manages is allowed by
	// policy only (TestAdoptingAnotherConfigurationsUsersNeedsThePolicy).
	second.Policy.Adopt = reconcile.AdoptExternalID
	p, err := second.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Counts.Adopt != 2 || p.Counts.MembersRemove != 0 || p.Counts.Writes() != 1 {
		t.Fatalf("the second configuration's plan: %+v", p.Counts)
	}
	var text strings.Builder
	p.WriteText(&text)
	for _, want := range []string{
		"adopt user ada@example.com [u1]: same externalId, not created by this configuration",
		"adopt group Engineering [eng]: same externalId",
	} {
		if !strings.Contains(text.String(), want) {
			t.Fatalf("the plan does not say %q:\n%s", want, text.String())
		}
	}
	count.take()
	res, err := second.Apply(ctx, p, false)
	if err != nil || len(res.Failed) > 0 || res.Done.Adopt != 2 {
		t.Fatalf("apply: %v, %+v", err, res)
	}
	if n := count.take(); n != 1 {
		t.Fatalf("adopting and creating Zed wrote %d times", n)
	}
	direct, err := client.New(url, client.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	g, err := direct.Groups.ByDisplayName(ctx, "Engineering")
	if err != nil {
		t.Fatal(err)
	}
	full, err := direct.Groups.Get(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Members) != 3 { // Ada, Alan and Platform, the first's
		t.Fatalf("Engineering lost members to the second configuration: %+v", full.Members)
	}
	// Ada leaves the second's source: it deactivates her and takes her
	// out of Engineering (it adopted both), and only her.
	src.snap.Users = src.snap.Users[1:]
	src.snap.Groups[0].Members = nil
	if p := mustSync(t, second); p.Counts.Deactivate != 1 || p.Counts.MembersRemove != 1 {
		t.Fatalf("Ada left the second's source: %+v", p.Counts)
	}
}

// TestLostStateDoesNotMakeEverythingOurs: with its state file deleted,
// a configuration finds its users and groups in the target as another's;
// the plan adopts them explicitly and is refused as a mass change, saying
// the state may be lost, and writes nothing, until mass changes are
// allowed.
func TestLostStateDoesNotMakeEverythingOurs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, token, _ := startStrictProxy(t, 100, 0)
	src := staff()
	e, count := strictEngine(t, url, token, src)
	e.Policy.MaxDeprovision = 1
	mustSync(t, e)
	statePath := filepath.Join(t.TempDir(), "lost.json")
	st, err := reconcile.LoadState(statePath) // a state that knows nothing
	if err != nil {
		t.Fatal(err)
	}
	e.State = st
	e.Policy.Adopt = reconcile.AdoptExternalID // else nothing is adopted (TestAdoptingAnotherConfigurationsUsersNeedsThePolicy)
	src.snap.Users[0].Attributes["sn"] = []string{"King"}
	p, err := e.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Counts.Adopt != 9 || !strings.Contains(strings.Join(p.Refused, "\n"), "adopts 9 users and groups") || !strings.Contains(strings.Join(p.Refused, "\n"), "state file was lost") {
		t.Fatalf("counts %+v, refused %q", p.Counts, p.Refused)
	}
	count.take()
	if _, err := e.Apply(ctx, p, false); !errors.Is(err, reconcile.ErrRefused) {
		t.Fatalf("apply: %v", err)
	}
	if n := count.take(); n != 0 {
		t.Fatalf("a refused plan wrote %d times", n)
	}
	if _, err := os.Stat(statePath); err == nil {
		t.Fatal("a refused plan saved the state")
	}
	res, err := e.Apply(ctx, p, true)
	if err != nil || len(res.Failed) > 0 || res.Done.Update != 1 {
		t.Fatalf("apply allowing mass changes: %v, %+v", err, res)
	}
	saved, err := reconcile.LoadState(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for id := range saved.Users {
			yield(id)
		}
	}); !slices.Equal(got, []string{"u1", "u2", "u3", "u4", "u5"}) {
		t.Fatalf("the state records users %v", got)
	}
	if p := mustSync(t, e); p.Counts.Writes() != 0 || p.Counts.Adopt != 0 {
		t.Fatalf("after adopting: %+v", p.Counts)
	}
}
