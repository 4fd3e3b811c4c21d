package server

import (
	"net/http"
	"net/netip"
	"testing"
)

// TestTheFailureLimiterForgetsAddressesWithinItsBound: however many
// addresses fail, the limiter remembers at most maxFailingAddrs, and one
// that is over its limit among few others stays over.
func TestTheFailureLimiterForgetsAddressesWithinItsBound(t *testing.T) {
	l := newFailureLimiter(0.001, 2)
	attacker := netip.MustParseAddr("192.0.2.1")
	for range 3 {
		l.fail(attacker)
	}
	if over, wait := l.over(attacker); !over || wait <= 0 {
		t.Fatalf("after 3 failures with bursts of 2: over = %v, wait %v; want over", over, wait)
	}
	if over, _ := l.over(netip.MustParseAddr("192.0.2.2")); over {
		t.Fatal("an address that never failed is over its limit")
	}
	for i := range 5 * maxFailingAddrs {
		l.fail(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
		if n := len(l.addrs); n > maxFailingAddrs {
			t.Fatalf("after %d addresses the limiter remembers %d, more than %d", i+1, n, maxFailingAddrs)
		}
	}
}

func TestFailuresCountPerIPv4AddressAndIPv6Slash64(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"192.0.2.1:1234", "192.0.2.1:5678", true},
		{"192.0.2.1:1234", "192.0.2.2:1234", false},
		{"[::ffff:192.0.2.1]:1", "192.0.2.1:2", true},
		{"[2001:db8:1:2::1]:1", "[2001:db8:1:2:ffff::9]:2", true},
		{"[2001:db8:1:2::1]:1", "[2001:db8:1:3::1]:1", false},
		{"[fe80::1%eth0]:1", "[fe80::2%eth1]:1", true},
	} {
		a, b := clientAddr(&http.Request{RemoteAddr: c.a}), clientAddr(&http.Request{RemoteAddr: c.b})
		if (a == b) != c.same || !a.IsValid() {
			t.Errorf("%s is counted as %v and %s as %v; want the same: %v", c.a, a, c.b, b, c.same)
		}
	}
}
