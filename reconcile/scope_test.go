package reconcile

import (
	"slices"
	"testing"

	"github.com/rosterhq/roster/reconcile/source"
)

func TestScopeKeepsAllowedGroupsTheirNestingAndMembers(t *testing.T) {
	snap := &source.Snapshot{
		Users: []source.User{{ID: "ada"}, {ID: "alan"}, {ID: "grace"}, {ID: "edsger"}},
		Groups: []source.Group{
			{ID: "g-eng", Name: "Engineering", Members: []string{"ada", "g-comp"}},
			{ID: "g-comp", Name: "Compilers", Members: []string{"grace", "g-eng"}}, // a cycle
			{ID: "g-lang", Name: "Languages", Parent: "g-comp", Members: []string{"edsger"}},
			{ID: "g-sales", Name: "Sales", Members: []string{"alan"}},
		},
	}
	if got := (Scope{}).apply(snap); got != snap {
		t.Fatal("an empty scope changed the snapshot")
	}
	got := Scope{Groups: []string{"engineering"}}.apply(snap)
	var users, groups []string
	for _, u := range got.Users {
		users = append(users, u.ID)
	}
	for _, g := range got.Groups {
		groups = append(groups, g.ID)
	}
	if !slices.Equal(users, []string{"ada", "grace", "edsger"}) || !slices.Equal(groups, []string{"g-eng", "g-comp", "g-lang"}) {
		t.Fatalf("users %v, groups %v", users, groups)
	}
	got = Scope{Groups: []string{"g-lang"}}.apply(snap)
	if len(got.Users) != 1 || got.Users[0].ID != "edsger" || len(got.Groups) != 1 || got.Groups[0].Parent != "" {
		t.Fatalf("by id: %+v", got)
	}
}
