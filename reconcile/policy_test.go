package reconcile_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/reconcile/source"
)

// backdate moves the time the state file at path says the user left back
// by d, as if d had passed since, and loads the state again as a new run
// would.
func backdate(t *testing.T, path, id string, d time.Duration) *reconcile.State {
	t.Helper()
	st, err := reconcile.LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	o := st.Users[id]
	if o == nil || o.Deprovisioned.IsZero() {
		t.Fatalf("the state does not record %s as deprovisioned: %+v", id, o)
	}
	o.Deprovisioned = o.Deprovisioned.Add(-d)
	if err := st.Save(); err != nil {
		t.Fatal(err)
	}
	if st, err = reconcile.LoadState(path); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStagedDeprovisioning(t *testing.T) {
	ctx := context.Background()
	url, token := startRoster(t)
	src := &memSource{snap: source.Snapshot{Users: people(6), Groups: []source.Group{{ID: "g1", Name: "All", Members: []string{"u0", "u1", "u2"}}}}}
	e, statePath := newEngine(t, url, token, src)
	e.Policy.Delete, e.Policy.GracePeriod = true, 24*time.Hour
	mustSync(t, e)
	targetID := func(userName string) string {
		t.Helper()
		u, err := e.Target.Users.ByUserName(ctx, userName)
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	leaver, returner := targetID("user1@example.com"), targetID("user2@example.com")

	// u1 and u2 leave: deactivated at once, not deleted, and the state
	// records when.
	before := time.Now().UTC()
	src.snap.Users = slices.Delete(slices.Clone(src.snap.Users), 1, 3)
	src.snap.Groups[0].Members = []string{"u0"}
	p := mustSync(t, e)
	if p.Counts.Deactivate != 2 || p.Counts.Delete != 0 {
		t.Fatalf("leavers: plan %+v, want 2 deactivations and no delete", p.Counts)
	}
	for _, id := range []string{leaver, returner} {
		u, err := e.Target.Users.Get(ctx, id)
		if err != nil || u.Active == nil || *u.Active {
			t.Fatalf("a leaver is not deactivated: %+v, %v", u, err)
		}
	}
	if d := e.State.Users["u1"].Deprovisioned; d.Before(before) || d.After(time.Now()) {
		t.Fatalf("u1 deprovisioned at %v, want the time of the run", d)
	}

	// Within the grace period nothing happens, run after run.
	if p := mustSync(t, e); p.Counts.Writes() != 0 {
		t.Fatalf("within the grace period: plan %+v", p.Counts)
	}

	// u2 returns within the period: reactivated, the same target user.
	src.snap.Users = append(src.snap.Users, people(3)[2])
	p = mustSync(t, e)
	if p.Counts.Reactivate != 1 || p.Counts.Create != 0 || p.Counts.Delete != 0 {
		t.Fatalf("a returner: plan %+v, want one reactivation", p.Counts)
	}
	if got := targetID("user2@example.com"); got != returner {
		t.Fatalf("the returner is target user %s, was %s", got, returner)
	}
	if u, _ := e.Target.Users.Get(ctx, returner); u.Active == nil || !*u.Active {
		t.Fatalf("the returner is not active: %+v", u)
	}
	if d := e.State.Users["u2"].Deprovisioned; !d.IsZero() {
		t.Fatalf("the returner is still recorded as deprovisioned at %v", d)
	}

	// The grace period passes for u1 (the state file says it left 25 hours
	// ago): deleted, and forgotten by the state. u2's clock was reset by
	// its return, so going again it is only deactivated.
	e.State = backdate(t, statePath, "u1", 25*time.Hour)
	p = mustSync(t, e)
	if p.Counts.Delete != 1 || p.Counts.Writes() != 1 {
		t.Fatalf("after the grace period: plan %+v, want one delete", p.Counts)
	}
	if _, err := e.Target.Users.Get(ctx, leaver); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("the leaver after the grace period: %v, want not found", err)
	}
	if st, _ := reconcile.LoadState(statePath); st.Users["u1"] != nil {
		t.Fatalf("the state still owns the deleted user: %+v", st.Users["u1"])
	}
	if p := mustSync(t, e); p.Counts.Writes() != 0 {
		t.Fatalf("after the delete: plan %+v", p.Counts)
	}

	// Back after the delete: a new account.
	src.snap.Users = append(src.snap.Users, people(2)[1])
	if p := mustSync(t, e); p.Counts.Create != 1 {
		t.Fatalf("back after the delete: plan %+v, want a create", p.Counts)
	}
	if got := targetID("user1@example.com"); got == leaver {
		t.Fatalf("the deleted user's id %s came back", got)
	}
}

func TestDisabledUsersAreNeverDeleted(t *testing.T) {
	url, token := startRoster(t)
	src := &memSource{snap: source.Snapshot{Users: people(4)}}
	e, statePath := newEngine(t, url, token, src)
	e.Policy.Delete, e.Policy.GracePeriod = true, time.Hour
	mustSync(t, e)

	// u1 is disabled in the source but still in it: deactivated, and kept
	// however long it stays disabled.
	src.snap.Users[1].Active = false
	if p := mustSync(t, e); p.Counts.Deactivate != 1 {
		t.Fatalf("plan %+v, want one deactivation", p.Counts)
	}
	if o := e.State.Users["u1"]; o.Deprovisioned.IsZero() {
		t.Fatal("a disabled user's deactivation is not recorded")
	}
	e.State = backdate(t, statePath, "u1", 48*time.Hour)
	if p := mustSync(t, e); p.Counts.Writes() != 0 {
		t.Fatalf("a disabled user long after: plan %+v, want nothing", p.Counts)
	}
}

func TestGracePeriodZeroDeletesOnTheNextRun(t *testing.T) {
	url, token := startRoster(t)
	src := &memSource{snap: source.Snapshot{Users: people(4)}}
	e, _ := newEngine(t, url, token, src)
	e.Policy.Delete = true
	mustSync(t, e)
	src.snap.Users = src.snap.Users[:3]

	// Deactivation comes first even without a grace period, so that a run
	// never deletes someone it has not deactivated before.
	if p := mustSync(t, e); p.Counts.Deactivate != 1 || p.Counts.Delete != 0 {
		t.Fatalf("first run: plan %+v", p.Counts)
	}
	time.Sleep(time.Millisecond)
	if p := mustSync(t, e); p.Counts.Delete != 1 {
		t.Fatalf("second run: plan %+v, want a delete", p.Counts)
	}
}

func TestDeletesCountTowardsTheMassLimit(t *testing.T) {
	url, token := startRoster(t)
	src := &memSource{snap: source.Snapshot{Users: people(10)}}
	e, _ := newEngine(t, url, token, src)
	e.Policy = reconcile.Policy{Delete: true, MaxDeprovision: 3}
	mustSync(t, e)

	// Three leave: within the limit.
	src.snap.Users = src.snap.Users[:7]
	mustSync(t, e)
	time.Sleep(time.Millisecond)
	// Their deletes (three) and a fourth leaver's deactivation are four
	// deprovisionings: refused.
	src.snap.Users = src.snap.Users[:6]
	p, err := e.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p.Counts.Delete != 3 || p.Counts.Deactivate != 1 || len(p.Refused) == 0 {
		t.Fatalf("plan %+v, refused %q: want 3 deletes and a deactivation, refused", p.Counts, p.Refused)
	}
}

func TestGraceStartsWhenDisabledWithOtherChanges(t *testing.T) {
	url, token := startRoster(t)
	src := &memSource{snap: source.Snapshot{Users: people(4)}}
	e, statePath := newEngine(t, url, token, src)
	e.Policy.Delete, e.Policy.GracePeriod = true, time.Hour
	mustSync(t, e)

	// u1 is disabled and renamed in one run: one update that also
	// deactivates, which starts the grace period as a deactivation does.
	src.snap.Users[1].Active = false
	src.snap.Users[1].Attributes["sn"] = []string{"Married"}
	if p := mustSync(t, e); p.Counts.Update != 1 || len(p.Users) != 1 {
		t.Fatalf("plan %+v", p.Counts)
	}
	if o := e.State.Users["u1"]; o.Deprovisioned.IsZero() {
		t.Fatal("an update that deactivates did not start the grace period")
	}

	// Another change while disabled does not restart it.
	e.State = backdate(t, statePath, "u1", 30*time.Minute)
	started := e.State.Users["u1"].Deprovisioned
	src.snap.Users[1].Attributes["givenName"] = []string{"Renamed"}
	if p := mustSync(t, e); p.Counts.Update != 1 {
		t.Fatalf("plan %+v", p.Counts)
	}
	if got := e.State.Users["u1"].Deprovisioned; !got.Equal(started) {
		t.Fatalf("an update of a disabled user moved the grace period's start from %v to %v", started, got)
	}

	// It leaves the source and the period passes: deleted.
	src.snap.Users = slices.Delete(src.snap.Users, 1, 2)
	e.State = backdate(t, statePath, "u1", time.Hour)
	if p := mustSync(t, e); p.Counts.Delete != 1 {
		t.Fatalf("plan %+v, want the disabled leaver deleted", p.Counts)
	}
}

func TestGraceStartsForALeaverDeactivatedOutsideTheSync(t *testing.T) {
	ctx := context.Background()
	url, token := startRoster(t)
	src := &memSource{snap: source.Snapshot{Users: people(4)}}
	e, statePath := newEngine(t, url, token, src)
	e.Policy.Delete, e.Policy.GracePeriod = true, time.Hour
	mustSync(t, e)

	// An administrator deactivates u1 in the target, and then u1 leaves
	// the source: there is nothing to deactivate, but the grace period
	// starts all the same, or the user would never be deleted.
	u1, err := e.Target.Users.ByUserName(ctx, "user1@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Target.Users.Deactivate(ctx, u1.ID); err != nil {
		t.Fatal(err)
	}
	src.snap.Users = slices.Delete(src.snap.Users, 1, 2)
	if p := mustSync(t, e); p.Counts.Writes() != 0 {
		t.Fatalf("plan %+v, want nothing to write", p.Counts)
	}
	e.State = backdate(t, statePath, "u1", 2*time.Hour)
	if p := mustSync(t, e); p.Counts.Delete != 1 {
		t.Fatalf("plan %+v, want the leaver deleted after the grace period", p.Counts)
	}
}
