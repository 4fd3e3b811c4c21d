package conformance_test

import (
	"context"
	"testing"

	"github.com/rosterhq/roster/conformance"
	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/store/postgres"
)

// TestRosterPassesEveryCheck holds Roster's own server, on each store, to
// every check: each passes, or is skipped with a reason.
func TestRosterPassesEveryCheck(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		passesEveryCheck(t, newRoster(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		st, err := postgres.Open(context.Background(), pgtest.New(t))
		if err != nil {
			t.Fatal(err)
		}
		passesEveryCheck(t, newRosterOn(t, st))
	})
}

func passesEveryCheck(t *testing.T, rs roster) {
	rep := run(t, serve(t, rs.handler), rs.token, conformance.Config{Large: 250})
	if len(rep.Results) != len(conformance.Checks()) {
		t.Errorf("%d results for %d checks", len(rep.Results), len(conformance.Checks()))
	}
	for _, res := range rep.Results {
		switch {
		case res.Status == conformance.Fail || res.Status == conformance.Warn:
			t.Errorf("%s: %s: %s", res.ID, res.Status, res.Message)
		case res.Status == conformance.Skip && res.Message == "":
			t.Errorf("%s was skipped without a reason", res.ID)
		}
	}
	if len(rep.Cleanup.Left) > 0 || rep.Cleanup.Deleted == 0 {
		t.Errorf("cleanup deleted %d and left %v", rep.Cleanup.Deleted, rep.Cleanup.Left)
	}
	if t.Failed() {
		t.Log(explain(rep))
	}
}
