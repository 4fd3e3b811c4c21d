package reconcile_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/reconcile/source"
)

// memberNames returns the display names of a target group's members.
func memberNames(t *testing.T, c *client.Client, name string) []string {
	t.Helper()
	ctx := context.Background()
	g, err := c.Groups.ByDisplayName(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	full, err := c.Groups.Get(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range full.Members {
		out = append(out, m.Display)
	}
	sort.Strings(out)
	return out
}

func TestRetireGroupsDeletesOnlyOwnedGroups(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.engine.Policy.RetireGroups = reconcile.RetireDelete
	f.run(t)
	// Groups the sync does not own: one made by hand, one that another
	// tool gave an externalId.
	for _, g := range []*client.Group{{DisplayName: "Outsiders"}, {DisplayName: "Elsewhere", ExternalID: "x9"}} {
		if _, err := f.c.Groups.Create(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	compilers, err := f.c.Groups.ByDisplayName(ctx, "Compilers")
	if err != nil {
		t.Fatal(err)
	}

	// Compilers leaves the source: taken out of Engineering, then deleted.
	f.src.snap.Groups = f.src.snap.Groups[:1]
	p, _, writes := f.run(t)
	if p.Counts.GroupRetire != 1 || p.Counts.MembersRemove != 1 || p.Counts.Writes() != 2 || writes != 2 {
		t.Fatalf("plan %+v, %d writes; want Compilers removed from Engineering and retired", p.Counts, writes)
	}
	if _, err := f.c.Groups.Get(ctx, compilers.ID); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("the retired group: %v, want not found", err)
	}
	for _, name := range []string{"Outsiders", "Elsewhere", "Engineering"} {
		if _, err := f.c.Groups.ByDisplayName(ctx, name); err != nil {
			t.Fatalf("group %s: %v", name, err)
		}
	}
	if got := f.members(t, "Engineering"); !slices.Equal(got, []string{"Ada Lovelace", "Alan Turing"}) {
		t.Fatalf("Engineering: %v", got)
	}
	if p, _, writes := f.run(t); p.Counts.Writes() != 0 || writes != 0 {
		t.Fatalf("after retiring: plan %+v, %d writes", p.Counts, writes)
	}
}

func TestGroupsAreKeptWithoutRetireGroups(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.run(t)
	f.src.snap.Groups = f.src.snap.Groups[:1]
	if p, _, _ := f.run(t); p.Counts.GroupRetire != 0 {
		t.Fatalf("plan %+v retires a group without RetireGroups", p.Counts)
	}
	if _, err := f.c.Groups.ByDisplayName(ctx, "Compilers"); err != nil {
		t.Fatal(err)
	}
}

func TestFlatten(t *testing.T) {
	f := newFixture(t)
	f.engine.Policy.Flatten = true
	// A third level: Parsers in Compilers in Engineering.
	f.src.snap.Groups = append(f.src.snap.Groups, source.Group{ID: "g3", Name: "Parsers", Members: []string{"u4"}, Parent: "g2"})
	f.run(t)
	want := map[string][]string{
		"Engineering": {"Ada Lovelace", "Alan Turing", "Edsger Dijkstra", "Grace Hopper"},
		"Compilers":   {"Edsger Dijkstra", "Grace Hopper"},
		"Parsers":     {"Edsger Dijkstra"},
	}
	for name, members := range want {
		if got := f.members(t, name); !slices.Equal(got, members) {
			t.Errorf("flattened %s: %v, want %v", name, got, members)
		}
	}
	if p, _, writes := f.run(t); p.Counts.Writes() != 0 || writes != 0 {
		t.Fatalf("a second flattened run: plan %+v, %d writes", p.Counts, writes)
	}
}

func TestFlattenTurnedOnReplacesNestedGroupsByTheirUsers(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	f.engine.Policy.Flatten = true
	p, _, _ := f.run(t)
	if p.Counts.MembersAdd != 1 || p.Counts.MembersRemove != 1 {
		t.Fatalf("plan %+v: want Grace added to Engineering and Compilers removed", p.Counts)
	}
	if got := f.members(t, "Engineering"); !slices.Equal(got, []string{"Ada Lovelace", "Alan Turing", "Grace Hopper"}) {
		t.Fatalf("Engineering: %v", got)
	}
}

func TestFlattenTerminatesOnACycle(t *testing.T) {
	f := newFixture(t)
	f.engine.Policy.Flatten = true
	// Engineering holds Compilers, which holds Engineering: a source (not
	// a file source, which refuses cycles) may say so.
	f.src.snap.Groups = []source.Group{
		{ID: "g1", Name: "Engineering", Members: []string{"u1", "g2"}},
		{ID: "g2", Name: "Compilers", Members: []string{"u3", "g1"}},
	}
	done := make(chan *reconcile.Plan, 1)
	go func() {
		p, err := f.engine.Plan(context.Background())
		if err != nil {
			t.Error(err)
		}
		done <- p
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("planning a cycle does not end")
	}
	f.run(t)
	for _, name := range []string{"Engineering", "Compilers"} {
		if got := f.members(t, name); !slices.Equal(got, []string{"Ada Lovelace", "Grace Hopper"}) {
			t.Errorf("%s: %v, want both users of the cycle", name, got)
		}
	}
}

func TestGroupAdoptedByDisplayName(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	outsider, err := f.c.Users.Create(ctx, &client.User{UserName: "outsider@example.com", DisplayName: "Out Sider"})
	if err != nil {
		t.Fatal(err)
	}
	pre, err := f.c.Groups.Create(ctx, &client.Group{DisplayName: "ENGINEERING", Members: []client.Member{{Value: outsider.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	p, _, _ := f.run(t)
	if p.Counts.GroupCreate != 1 || p.Counts.GroupRename != 1 {
		t.Fatalf("plan %+v: want Engineering adopted and Compilers created", p.Counts)
	}
	got, err := f.c.Groups.Get(ctx, pre.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ExternalID != "g1" || got.DisplayName != "Engineering" {
		t.Fatalf("the adopted group: %+v", got)
	}
	// The sync adds the source's members to an adopted group, and leaves
	// alone a member it does not manage (issue 14: it removes only users
	// and groups it created or adopted).
	if names := f.members(t, "Engineering"); !slices.Equal(names, []string{"Ada Lovelace", "Alan Turing", "Compilers", "Out Sider"}) {
		t.Fatalf("Engineering: %v", names)
	}
	if p, _, writes := f.run(t); p.Counts.Writes() != 0 || writes != 0 {
		t.Fatalf("after adopting: plan %+v, %d writes", p.Counts, writes)
	}
	// Adopted, the group is the sync's: it is retired when it leaves.
	f.engine.Policy.RetireGroups = reconcile.RetireDelete
	f.src.snap.Groups = f.src.snap.Groups[1:]
	f.src.snap.Groups[0].Parent = ""
	if p, _, _ := f.run(t); p.Counts.GroupRetire != 1 {
		t.Fatalf("plan %+v: want the adopted group retired", p.Counts)
	}
}

func TestMembershipIsBatched(t *testing.T) {
	url, token := startRoster(t)
	log := &requestLog{base: testTransport(t)}
	users := people(10)
	src := &memSource{snap: source.Snapshot{Users: users, Groups: []source.Group{{ID: "g", Name: "Everyone"}}}}
	e, _ := newEngine(t, url, token, src, client.WithMemberBatch(3), client.WithTransport(log))
	mustSync(t, e)
	log.writes()

	patches := func() int {
		n := 0
		for _, r := range log.writes() {
			if strings.HasPrefix(r, "PATCH /Groups/") {
				n++
			} else {
				t.Errorf("unexpected write %s", r)
			}
		}
		return n
	}
	src.snap.Groups[0].Members = userIDs(users, 0, 10)
	if p := mustSync(t, e); p.Counts.MembersAdd != 10 {
		t.Fatalf("plan %+v", p.Counts)
	}
	if n := patches(); n != 4 {
		t.Fatalf("adding 10 members in batches of 3 took %d PATCHes, want 4", n)
	}
	if got := memberNames(t, e.Target, "Everyone"); len(got) != 10 {
		t.Fatalf("Everyone has %d members: %v", len(got), got)
	}
	src.snap.Groups[0].Members = userIDs(users, 0, 3)
	if p := mustSync(t, e); p.Counts.MembersRemove != 7 {
		t.Fatalf("plan %+v", p.Counts)
	}
	if n := patches(); n != 3 {
		t.Fatalf("removing 7 members in batches of 3 took %d PATCHes, want 3", n)
	}
	if got := memberNames(t, e.Target, "Everyone"); len(got) != 3 {
		t.Fatalf("Everyone has %d members: %v", len(got), got)
	}
}

func TestANewGroupTakesTheNameARenamedOneGaveUp(t *testing.T) {
	f := newFixture(t)
	f.run(t)
	// The new group comes first in the source: renames must still go
	// before creates, as displayNames are unique in the target.
	f.src.snap.Groups[0].Name = "Platform"
	f.src.snap.Groups = append([]source.Group{{ID: "g9", Name: "Engineering", Members: []string{"u4"}}}, f.src.snap.Groups...)
	p, _, _ := f.run(t)
	if p.Counts.GroupCreate != 1 || p.Counts.GroupRename != 1 {
		t.Fatalf("plan %+v", p.Counts)
	}
	if got := f.members(t, "Engineering"); !slices.Equal(got, []string{"Edsger Dijkstra"}) {
		t.Fatalf("the new Engineering: %v", got)
	}
	if got := f.members(t, "Platform"); !slices.Equal(got, []string{"Ada Lovelace", "Alan Turing", "Compilers"}) {
		t.Fatalf("Platform: %v", got)
	}
}

// TestAGroupReplacedByANewOneOfTheSameNameConvergesInOneRun: the source
// drops a group and adds another of the same name (a new id). The old
// one is retired before the new one is created, or the create would meet
// the old name and fail with 409 until the next run.
func TestAGroupReplacedByANewOneOfTheSameNameConvergesInOneRun(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.engine.Policy.RetireGroups = reconcile.RetireDelete
	f.run(t)
	old, err := f.c.Groups.ByDisplayName(ctx, "Compilers")
	if err != nil {
		t.Fatal(err)
	}
	f.src.snap.Groups[1] = source.Group{ID: "g7", Name: "compilers", Members: []string{"u4"}, Parent: "g1"}
	p, _, _ := f.run(t) // fails the test on any failure
	if p.Counts.GroupRetire != 1 || p.Counts.GroupCreate != 1 {
		t.Fatalf("plan %+v, want one group retired and one created", p.Counts)
	}
	g, err := f.c.Groups.ByDisplayName(ctx, "compilers")
	if err != nil {
		t.Fatal(err)
	}
	if g.ID == old.ID || g.ExternalID != "g7" {
		t.Fatalf("compilers is %s (externalId %q); want a new group for g7, not %s", g.ID, g.ExternalID, old.ID)
	}
	if got := f.members(t, "compilers"); !slices.Equal(got, []string{"Edsger Dijkstra"}) {
		t.Fatalf("the new compilers: %v", got)
	}
	if got := f.members(t, "Engineering"); !slices.Equal(got, []string{"Ada Lovelace", "Alan Turing", "compilers"}) {
		t.Fatalf("Engineering: %v", got)
	}
	if p, _, writes := f.run(t); p.Counts.Writes() != 0 || writes != 0 {
		t.Fatalf("the next run: plan %+v, %d writes", p.Counts, writes)
	}
}
