// Package retryafter reads the Retry-After header of an HTTP answer
// (RFC 9110 §10.2.3), as the SCIM client, the compliance checker and the
// webhook delivery honour it.
package retryafter

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Parse returns the delay a Retry-After value asks for at the time now:
// delay-seconds, or an HTTP-date (a date already past asks for none). ok
// is false for an empty or unreadable value. The delay is at most limit,
// whatever the value says.
func Parse(v string, now time.Time, limit time.Duration) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		if n > uint64(limit/time.Second) {
			return limit, true
		}
		return min(time.Duration(n)*time.Second, limit), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), limit), true
	}
	return 0, false
}
