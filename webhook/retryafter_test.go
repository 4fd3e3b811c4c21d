package webhook

import (
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"":                              -1,
		"0":                             0,
		"120":                           2 * time.Minute,
		" 7 ":                           7 * time.Second,
		"-5":                            -1,
		"soon":                          -1,
		"99999999999":                   maxRetryAfter,
		"Mon, 07 Dec 2026 04:00:30 GMT": 30 * time.Second,
		"Mon, 07 Dec 2026 03:00:00 GMT": 0,
		"Tue, 07 Dec 2027 04:00:00 GMT": maxRetryAfter,
	} {
		if got := retryAfter(h, now); got != want {
			t.Errorf("Retry-After %q: %s, want %s", h, got, want)
		}
	}
}

// FuzzRetryAfter holds the reading of a receiver's Retry-After to a delay
// from 0 to maxRetryAfter, or -1, whatever the receiver sends.
func FuzzRetryAfter(f *testing.F) {
	for _, seed := range []string{"", "0", "120", "-1", "1e9", "99999999999999999999", "Mon, 07 Dec 2026 04:00:30 GMT", "Sun, 06 Nov 1994 08:49:37 GMT"} {
		f.Add(seed)
	}
	now := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, h string) {
		if d := retryAfter(h, now); d != -1 && (d < 0 || d > maxRetryAfter) {
			t.Fatalf("Retry-After %q: %s", h, d)
		}
	})
}
