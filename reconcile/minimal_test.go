package reconcile_test

import (
	"context"
	"slices"
	"testing"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile/source"
)

func TestOnePercentChangedCostsOneRequestEach(t *testing.T) {
	ctx := context.Background()
	url, token := startRoster(t)
	log := &requestLog{base: testTransport(t)}
	users := people(200)
	var groups []source.Group
	for g := range 10 {
		groups = append(groups, source.Group{ID: "g" + string(rune('a'+g)), Name: "Team " + string(rune('A'+g)), Members: userIDs(users, g*20, g*20+20)})
	}
	src := &memSource{snap: source.Snapshot{Users: users, Groups: groups}}
	e, _ := newEngine(t, url, token, src, client.WithTransport(log))
	mustSync(t, e)
	log.writes()
	targetID := func(i int) string {
		t.Helper()
		u, err := e.Target.Users.ByUserName(ctx, source.Get(users[i].Attributes, "mail"))
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	groupID := func(name string) string {
		t.Helper()
		g, err := e.Target.Groups.ByDisplayName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return g.ID
	}

	// Two users of 200 change: user 5 gets a new surname (name.familyName
	// and displayName in one PATCH), user 150 is disabled. User 7 moves
	// from Team A to Team B and user 30 from Team B to Team C: A only
	// loses, C only gains, B gains one and loses one.
	users[5].Attributes["sn"] = []string{"Changed"}
	users[150].Active = false
	groups[0].Members = slices.DeleteFunc(slices.Clone(groups[0].Members), func(id string) bool { return id == "u7" })
	groups[1].Members = append(slices.DeleteFunc(slices.Clone(groups[1].Members), func(id string) bool { return id == "u30" }), "u7")
	groups[2].Members = append(slices.Clone(groups[2].Members), "u30")
	p := mustSync(t, e)
	if p.Counts.Update != 1 || p.Counts.Deactivate != 1 || p.Counts.MembersAdd != 2 || p.Counts.MembersRemove != 2 {
		t.Fatalf("plan %+v", p.Counts)
	}
	got := log.writes()
	slices.Sort(got)
	want := []string{
		"PATCH /Users/" + targetID(5),
		"PATCH /Users/" + targetID(150),
		"PATCH /Groups/" + groupID("Team A"),
		"PATCH /Groups/" + groupID("Team C"),
		// A group that both gains and loses members costs one PATCH
		// too: the removal and the add go together.
		"PATCH /Groups/" + groupID("Team B"),
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("writes:\n%q\nwant:\n%q", got, want)
	}
	if p := mustSync(t, e); p.Counts.Writes() != 0 {
		t.Fatalf("after: plan %+v", p.Counts)
	}
	if w := log.writes(); len(w) != 0 {
		t.Fatalf("a converged run wrote %q", w)
	}
}
