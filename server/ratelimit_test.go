package server_test

import (
	"strconv"
	"testing"

	"github.com/rosterhq/roster/server"
)

func TestATokenOverItsRateGets429WithRetryAfter(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{RateLimit: 0.01, RateBurst: 3})
		for range 3 {
			a.must(t, 200, "GET", "/Users", nil)
		}
		r := a.do(t, "GET", "/Users", nil)
		r.mustFail(t, 429, "")
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 100 {
			t.Fatalf("Retry-After = %q, want 1 to 100 seconds", r.Header.Get("Retry-After"))
		}
		// Another directory's token has its own bucket.
		b := a.tenant(t, "globex")
		b.must(t, 200, "GET", "/Users", nil)
	})
}

func TestRateLimitingCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{RateLimit: -1})
		for range 300 {
			a.must(t, 200, "GET", "/Users?count=0", nil)
		}
	})
}
