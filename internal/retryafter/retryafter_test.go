package retryafter

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"  ", 0, false},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999999999999", 0, false},        // beyond any integer
		{"18446744073709551615", time.Hour, true}, // would overflow a Duration
		{"86400", time.Hour, true},                // over the limit
		{"Mon, 07 Dec 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Mon, 07 Dec 2026 11:00:00 GMT", 0, true}, // past
		{"Tue, 08 Dec 2026 12:00:00 GMT", time.Hour, true},
	} {
		got, ok := Parse(tt.in, now, time.Hour)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Parse(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzParse holds that any value gives a delay within [0, limit], and
// none when it is unreadable.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "0", "120", "-3", "18446744073709551615", "Mon, 07 Dec 2026 12:00:30 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := Parse(v, now, 24*time.Hour)
		if d < 0 || d > 24*time.Hour || (!ok && d != 0) {
			t.Fatalf("Parse(%q) = %v, %v", v, d, ok)
		}
	})
}
