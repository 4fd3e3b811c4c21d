package conformance_test

import (
	"testing"
	"time"

	"github.com/rosterhq/roster/conformance"
)

// BenchmarkFullRunAgainstRoster times a run of every check against a
// local Roster on SQLite, cleanup included (issue 16: under 30 s).
func BenchmarkFullRunAgainstRoster(b *testing.B) {
	rs := newRoster(b)
	base := serve(b, rs.handler)
	for b.Loop() {
		rep := run(b, base, rs.token, conformance.Config{})
		if rep.Failed() {
			b.Fatalf("a check failed:\n%s", explain(rep))
		}
		b.ReportMetric(float64(rep.Count(conformance.Pass)), "passed")
		b.ReportMetric(float64(rep.Cleanup.Deleted), "deleted")
	}
}

// BenchmarkLargeGroup10000 times the large-group check with 10,000
// members against a local Roster on SQLite (issue 16: under 60 s); it
// reports the check's own time and the cleanup's, which deletes the
// members.
func BenchmarkLargeGroup10000(b *testing.B) {
	rs := newRoster(b)
	base := serve(b, rs.handler)
	for b.Loop() {
		rep := run(b, base, rs.token, conformance.Config{Only: []string{"large-group"}, Large: 10000})
		res, _ := rep.Result("large-group.members")
		if res.Status != conformance.Pass {
			b.Fatalf("large-group.members: %s: %s", res.Status, res.Message)
		}
		b.ReportMetric(res.Duration.Seconds(), "check-s")
		b.ReportMetric((rep.Duration - res.Duration).Seconds(), "rest-s")
		b.Logf("%s; the run took %v", res.Message, rep.Duration.Round(time.Millisecond))
	}
}
