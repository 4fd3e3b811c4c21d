package reconcile_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/reconcile/source/scimserver"
)

// TestSyncRosterToRoster migrates one Roster's directory into another
// through the SCIM source, then converges with no writes.
func TestSyncRosterToRoster(t *testing.T) {
	ctx := context.Background()
	from := newFixture(t) // its client is the source's
	to := newFixture(t)
	var ids []string
	for _, name := range []string{"ada", "alan", "grace"} {
		u, err := from.c.Users.Create(ctx, &client.User{UserName: name + "@example.com", Active: client.Bool(true),
			Name:   &client.Name{GivenName: name, FamilyName: "X"},
			Emails: []client.Email{{Value: name + "@example.com", Type: "work", Primary: true}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	g, err := from.c.Groups.Create(ctx, &client.Group{DisplayName: "Engineering"})
	if err != nil {
		t.Fatal(err)
	}
	if err := from.c.Groups.AddMembers(ctx, g.ID, ids[:2]...); err != nil {
		t.Fatal(err)
	}
	state, err := reconcile.LoadState(filepath.Join(t.TempDir(), "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	to.engine = &reconcile.Engine{Source: scimserver.New(from.c, ""), Target: to.c, State: state}
	p, _, _ := to.run(t)
	if p.Counts.Create != 3 || p.Counts.GroupCreate != 1 || p.Counts.MembersAdd != 2 {
		t.Fatalf("plan %+v", p.Counts)
	}
	ada, err := to.c.Users.ByUserName(ctx, "ada@example.com")
	if err != nil || ada.ExternalID != ids[0] || ada.Name.GivenName != "ada" || ada.Emails[0].Value != "ada@example.com" {
		t.Fatalf("migrated ada: %+v, %v", ada, err)
	}
	if got := to.members(t, "Engineering"); !slices.Equal(got, []string{"ada X", "alan X"}) {
		t.Fatalf("members %v", got)
	}
	if p, _, writes := to.run(t); p.Counts.Writes() != 0 || writes != 0 {
		t.Fatalf("second run: %+v, %d writes", p.Counts, writes)
	}
}
