package reconcile_test

import (
	"context"
	"testing"

	"github.com/rosterhq/roster/reconcile"
)

// TestReadingReportsEachSideAndEndsWithTheCounts plans against a real
// Roster that holds users and groups already: Reading is told of each
// side as it is read, its totals known ahead where the target says them,
// and last of each with n == total, the counts read. The callback keeps
// its calls in a slice without a lock: the race detector fails the test
// if the engine called it concurrently.
func TestReadingReportsEachSideAndEndsWithTheCounts(t *testing.T) {
	f := newFixture(t)
	f.run(t) // the target now holds the source's active users and its groups
	type call struct {
		what     string
		n, total int
	}
	var calls []call
	f.engine.Reading = func(what string, n, total int) { calls = append(calls, call{what, n, total}) }
	if _, err := f.engine.Plan(context.Background()); err != nil {
		t.Fatal(err)
	}

	want := map[string]int{"source users": 5, "source groups": 2, "target users": 4, "target groups": 2}
	last := map[string]call{}
	totalAhead := map[string]bool{}
	for _, c := range calls {
		final, ok := want[c.what]
		if !ok {
			t.Fatalf("a call about %q: %+v", c.what, calls)
		}
		if prev, seen := last[c.what]; seen && (c.n < prev.n || prev.n == prev.total) {
			t.Errorf("%+v after %+v: counts go down, or go on after the end", c, prev)
		}
		if c.total != -1 && c.total != final || c.n > final {
			t.Errorf("%+v: the total is neither unknown nor %d", c, final)
		}
		if c.total == final && c.n < final {
			totalAhead[c.what] = true
		}
		last[c.what] = c
	}
	for what, n := range want {
		if got := last[what]; got.n != n || got.total != n {
			t.Errorf("the last call about %s is %+v, want %d of %d", what, got, n, n)
		}
	}
	if !totalAhead["target users"] || !totalAhead["target groups"] {
		t.Errorf("the target's totals were not known while reading: %+v", calls)
	}
}

// TestApplyCountsFailuresByKind applies two new users whose userNames
// differ only in case, and a membership of each: the target refuses one
// user, and so the membership of the user it refused.
func TestApplyCountsFailuresByKind(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.run(t)
	f.src.snap.Users = append(f.src.snap.Users, person("n1", "new@example.com", "N", "One", true), person("n2", "NEW@example.com", "N", "Two", true))
	f.src.snap.Groups[1].Members = append(f.src.snap.Groups[1].Members, "n1", "n2")
	p, err := f.engine.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.engine.Apply(ctx, p, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := (reconcile.Counts{Create: 1, MembersAdd: 1}); res.FailedCounts != want || res.Done != want || len(res.Failed) != 2 {
		t.Fatalf("done %+v, failed %+v: %+v", res.Done, res.FailedCounts, res.Failed)
	}
}
