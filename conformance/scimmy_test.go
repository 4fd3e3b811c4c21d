package conformance_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/conformance"
	"github.com/rosterhq/roster/internal/scimmytest"
)

// TestAServerOnScimmy runs the checker against a server on the npm
// packages scimmy and scimmy-routers (internal/scimmytest): the run
// completes, what the server does not advertise is skipped, and the
// outcomes known to hold are held, each with why (the full list of what
// it fails is in the README).
func TestAServerOnScimmy(t *testing.T) {
	t.Parallel()
	base, token := scimmytest.Start(t)
	start := time.Now()
	rep := run(t, base, token, conformance.Config{})
	t.Logf("against scimmy in %v: %d passed, %d failed, %d warned, %d skipped",
		time.Since(start).Round(time.Millisecond), rep.Count(conformance.Pass), rep.Count(conformance.Fail), rep.Count(conformance.Warn), rep.Count(conformance.Skip))
	for _, res := range rep.Results {
		if res.Status == conformance.Fail || res.Status == conformance.Warn {
			t.Logf("%s %s: %s", res.Status, res.ID, res.Message)
		}
		if strings.HasPrefix(res.Message, "the check crashed") {
			t.Errorf("%s crashed: %s", res.ID, res.Message)
		}
	}
	for _, want := range []struct {
		id     string
		status conformance.Status
		why    string // what the message says, "" for a pass
	}{
		{"discovery.service_provider_config", conformance.Pass, ""},
		{"users.duplicate_409", conformance.Pass, ""},
		{"filter.userName_eq", conformance.Pass, ""},
		{"errors.get_unknown_404", conformance.Pass, ""},
		{"groups.remove_member_value", conformance.Pass, ""},
		// RFC 7643 §3.1: meta.location is the resource's URI; scimmy
		// answers a path (/scim/Users/…).
		{"users.meta_location", conformance.Fail, "is not an absolute URI"},
		// RFC 7643 §4.1.1: userName is caseExact false; scimmy's eq and
		// co compare it case-sensitively.
		{"filter.userName_eq_case_insensitive", conformance.Fail, "expected the users u05, got none"},
		// RFC 7644 §3.4.2.2: a filter in parentheses inside parentheses
		// is refused, 400 "Unexpected token ')'".
		{"filter.parentheses", conformance.Fail, "Unexpected token"},
		// RFC 7644 §3.4.2.2, §3.12: "userName eq" without a value is
		// answered an empty list, not 400 invalidFilter.
		{"filter.invalid_400", conformance.Fail, "expected status 400, got 200"},
		// RFC 7644 §3.4.2.4: count is ignored (every match comes, in
		// pages of 20).
		{"paging.count_and_startIndex", conformance.Fail, "(count=5): expected 5, got 12"},
		// RFC 7644 §3.5.2.1: adding a member it holds adds it again.
		{"groups.add_member_twice", conformance.Fail, "after adding a member again"},
		// RFC 7644 §3.5.2.3 and Entra: scimmy answers Entra's add through
		// a filter that matches nothing 400 noTarget, which RFC 7644
		// does not forbid: a warning under the default profile.
		{"patch.add_through_filter_builds_one", conformance.Warn, "noTarget"},
		// RFC 6750 §3: its 401 has no WWW-Authenticate header.
		{"auth.wrong_token_401", conformance.Warn, "no WWW-Authenticate header"},
		// RFC 7644 §3.3: its 201 has no Location header (a SHALL).
		{"users.create", conformance.Warn, "no Location header"},
		// It advertises no ETags and no cursors: skipped, saying so.
		{"etag.if_match_stale_412", conformance.Skip, "etag.supported is not true"},
		{"cursor.walk", conformance.Skip, "cursor pagination"},
	} {
		res, ok := rep.Result(want.id)
		if !ok || res.Status != want.status || !strings.Contains(res.Message, want.why) {
			t.Errorf("%s: %s (%s), want %s saying %q", want.id, res.Status, res.Message, want.status, want.why)
		}
	}
	if len(rep.Cleanup.Left) > 0 {
		t.Errorf("cleanup left %v", rep.Cleanup.Left)
	}
}
