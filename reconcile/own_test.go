package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/reconcile/source"
)

// TestSyncManagesUsersItNeverHadToChange: a target user already equal to
// its source user (created by another tool with the same externalId) is
// managed from the first run on, so leaving the source deactivates it.
func TestSyncManagesUsersItNeverHadToChange(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.src.snap.Users = f.src.snap.Users[:2]
	f.src.snap.Groups = nil
	// Alan exists already, exactly as the mapping would make him, with
	// the source's externalId (this configuration's, before its state
	// was lost, say): a policy that adopts him.
	f.engine.Policy.Adopt = reconcile.AdoptExternalID
	if _, err := f.c.Users.Create(ctx, &client.User{UserName: "alan@example.com", ExternalID: "u2", DisplayName: "Alan Turing",
		Name: &client.Name{GivenName: "Alan", FamilyName: "Turing"}, Active: client.Bool(true),
		Emails: []client.Email{{Value: "alan@example.com", Type: "work", Primary: true}}}); err != nil {
		t.Fatal(err)
	}
	p, _, _ := f.run(t)
	if p.Counts.Create != 1 || p.Counts.Unchanged != 1 {
		t.Fatalf("first run: %+v", p.Counts)
	}
	f.src.snap.Users = f.src.snap.Users[:1] // Alan leaves
	if p, _, _ := f.run(t); p.Counts.Deactivate != 1 {
		t.Fatalf("Alan left: %+v", p.Counts)
	}
}

// TestSyncDoesNotAdoptAnotherSystemsUser: a target user with the same
// userName but another system's externalId is not taken over; creating
// the source user fails with a conflict, reported, and nothing else moves.
func TestSyncDoesNotAdoptAnotherSystemsUser(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	other, err := f.c.Users.Create(ctx, &client.User{UserName: "ada@example.com", ExternalID: "okta-00u1"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.engine.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.engine.Apply(ctx, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Done.Create != 3 || len(res.Failed) == 0 || !strings.Contains(res.Failed[0].Err, "409") {
		t.Fatalf("done %+v, failed %+v", res.Done, res.Failed)
	}
	got, _ := f.c.Users.Get(ctx, other.ID)
	if got.ExternalID != "okta-00u1" {
		t.Fatalf("the other system's user was taken over: %+v", got)
	}
}

// TestSyncRefusesToRetireMostGroups: with retireGroups, a source that
// suddenly has no groups (a broken groups search) is refused like a mass
// deactivation.
func TestSyncRefusesToRetireMostGroups(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.engine.Policy.RetireGroups = reconcile.RetireDelete
	f.engine.Policy.MaxDeprovision = 1
	for i := range 3 {
		f.src.snap.Groups = append(f.src.snap.Groups, source.Group{ID: fmt.Sprintf("x%d", i), Name: fmt.Sprintf("Extra %d", i)})
	}
	f.run(t)
	f.src.snap.Groups = nil
	p, err := f.engine.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Counts.GroupRetire != 5 || !strings.Contains(strings.Join(p.Refused, "\n"), "retires 5 of the 5 groups") {
		t.Fatalf("plan %+v, refused %q", p.Counts, p.Refused)
	}
	if _, err := f.engine.Apply(ctx, p, false); !errors.Is(err, reconcile.ErrRefused) {
		t.Fatalf("Apply: %v", err)
	}
}
