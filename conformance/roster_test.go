package conformance_test

import (
	"testing"

	"github.com/rosterhq/roster/conformance"
)

// TestRosterPassesEveryCheck holds Roster's own server to every check:
// each passes, or is skipped with a reason.
func TestRosterPassesEveryCheck(t *testing.T) {
	t.Parallel()
	rs := newRoster(t)
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
