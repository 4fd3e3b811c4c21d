package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"
)

// ErrPrivateAddress is the error of an endpoint URL that resolves to an
// address on the server's side of the network (loopback, link-local,
// private, unspecified, multicast or reserved), refused unless private
// addresses are allowed: a webhook must not be a way into the network
// Roster runs in (SSRF).
var ErrPrivateAddress = errors.New("webhook: the URL resolves to a loopback, link-local, private or reserved address")

// nonPublic are the ranges, beside those netip.Addr's methods name, that
// no public endpoint is in.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
}

// IsPublic reports whether a is an address a webhook may be delivered
// to without AllowPrivate.
func IsPublic(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsPrivate() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// CheckURL checks an endpoint URL: absolute http or https with a host
// and, unless allowPrivate, resolving only to public addresses. A name
// can resolve elsewhere later (DNS rebinding): the Deliverer checks the
// address again when it connects.
func CheckURL(ctx context.Context, raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("webhook: URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("webhook: URL %q: want an absolute http or https URL", raw)
	}
	if u.User != nil {
		return fmt.Errorf("webhook: URL %q: credentials in the URL would be kept in clear; use the signature to authenticate deliveries", raw)
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host); err != nil {
		return fmt.Errorf("webhook: URL %q: %w", raw, err)
	}
	for _, a := range addrs {
		if !IsPublic(a) {
			return fmt.Errorf("%w: %s is %s", ErrPrivateAddress, host, a)
		}
	}
	return nil
}

// dialControl is a net.Dialer's Control: it refuses a connection to an
// address that is not public, whatever name resolved to it.
func dialControl(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("webhook: connect to %s: %w", address, err)
		}
		if !IsPublic(ap.Addr()) {
			return fmt.Errorf("%w: connect to %s", ErrPrivateAddress, address)
		}
		return nil
	}
}
