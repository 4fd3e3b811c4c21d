package server

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/store"
)

// Failed authentications are limited per client address: each address may
// fail AuthFailureBurst times, then once per 1/AuthFailureLimit seconds.
// Only failures count, so a busy client whose credentials are good is
// never slowed by this limit (the per-token RateLimit is another matter).
//
// An address over its limit does not reach the store: its requests are
// answered 429 unless the server can tell from memory that their
// credentials are good — a token, HTTP Basic secret or OAuth client secret
// that has authenticated on this server before, or a JWT whose signature
// verifies with a signing key the server holds. So an attacker who shares
// an address with a real client (a NAT, or a proxy in front of every
// client) does not lock it out: the client's known credentials still work.
// A credential this server has never seen, arriving from an address over
// its limit, waits its turn like any other (Retry-After): the price of
// not letting an attacker make one store lookup per guess.
//
// The address is the connection's (RemoteAddr): the server trusts no
// proxy headers. IPv6 addresses count per /64, the block one host is
// usually given, so that an attacker cannot take a fresh address for
// each guess.

// maxFailingAddrs bounds the addresses the failure limiter remembers;
// maxKnownCredentials bounds the credentials it recognizes; maxHeldKeys
// bounds the signing keys held for JWTs.
const (
	maxFailingAddrs     = 10000
	maxKnownCredentials = 10000
	maxHeldKeys         = 1000
)

// errUnrecognized is the error of an authentication from an address over
// its failure limit whose credentials the server cannot vouch for from
// memory. It is never a client's last answer: the request gets 429.
var errUnrecognized = errors.New("server: credentials not recognized while the address is over its failure limit")

// errNoCredentials is the error of a request that carries no credentials,
// which costs no lookup and so does not count as a failure.
var errNoCredentials = fmt.Errorf("no credentials: %w", store.ErrUnauthorized)

// failureLimiter counts failed authentications per client address in a
// token bucket each. Its memory is bounded: when maxFailingAddrs
// addresses are remembered, adding one forgets another, preferring one
// whose bucket has refilled (which is as good as forgetting nothing).
type failureLimiter struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	addrs map[netip.Addr]*rate.Limiter
}

// newFailureLimiter returns a limiter of perSecond failures per address
// with bursts of burst; nil (no limit) when perSecond is not positive.
func newFailureLimiter(perSecond float64, burst int) *failureLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &failureLimiter{rate: rate.Limit(perSecond), burst: max(burst, 1), addrs: make(map[netip.Addr]*rate.Limiter)}
}

// over reports whether addr has used up its failures and, if so, how long
// until it may fail again.
func (l *failureLimiter) over(addr netip.Addr) (bool, time.Duration) {
	if l == nil {
		return false, 0
	}
	l.mu.Lock()
	lim := l.addrs[addr]
	l.mu.Unlock()
	if lim == nil {
		return false, 0
	}
	tokens := lim.Tokens()
	if tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - tokens) / float64(l.rate) * float64(time.Second))
}

// fail counts a failed authentication from addr. Failures that arrive
// together beyond the burst (checked before the first was counted) put
// the address in debt, so they all count.
func (l *failureLimiter) fail(addr netip.Addr) {
	if l == nil {
		return
	}
	l.mu.Lock()
	lim := l.addrs[addr]
	if lim == nil {
		if len(l.addrs) >= maxFailingAddrs {
			l.forgetOne()
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.addrs[addr] = lim
	}
	l.mu.Unlock()
	lim.Reserve()
}

// forgetOne forgets the addresses whose buckets have refilled among a
// sample of those remembered (map order is random), or the first sampled
// if none has: a bounded cost, however many addresses fail.
func (l *failureLimiter) forgetOne() {
	const sample = 64
	var first netip.Addr
	n, forgot := 0, false
	for a, lim := range l.addrs {
		if n == 0 {
			first = a
		}
		if lim.Tokens() >= float64(l.burst) {
			delete(l.addrs, a)
			forgot = true
		}
		if n++; n == sample {
			break
		}
	}
	if !forgot {
		delete(l.addrs, first)
	}
}

// clientAddr returns the address failures are counted by: the
// connection's IP address, an IPv6 one cut to its /64.
func clientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{} // all unparsable addresses share one bucket
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// credential is the key under which the server remembers a credential
// that authenticated: a hash of its kind and parts, never the secret.
type credential [sha256.Size]byte

func credentialOf(kind string, parts ...string) credential {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	var c credential
	h.Sum(c[:0])
	return c
}

// knownCredentials remembers which credentials have authenticated on this
// server, for the failure limiter to let them through from an address
// over its limit. Only a success adds one, so an attacker cannot fill it;
// when full, adding one forgets another.
type knownCredentials struct {
	mu  sync.Mutex
	set map[credential]struct{}
}

func newKnownCredentials() *knownCredentials {
	return &knownCredentials{set: make(map[credential]struct{})}
}

func (k *knownCredentials) has(c credential) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.set[c]
	return ok
}

func (k *knownCredentials) add(c credential) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.set[c]; ok {
		return
	}
	if len(k.set) >= maxKnownCredentials {
		for old := range k.set {
			delete(k.set, old)
			break
		}
	}
	k.set[c] = struct{}{}
}

// heldKeys holds the signing keys that verified JWTs, by id, so that a
// JWT is checked without the store (signing keys never change) and the
// failure limiter can verify one from memory.
type heldKeys struct {
	mu   sync.Mutex
	keys map[string][]byte
}

func newHeldKeys() *heldKeys { return &heldKeys{keys: make(map[string][]byte)} }

func (h *heldKeys) get(id string) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k, ok := h.keys[id]
	return k, ok
}

func (h *heldKeys) add(id string, key []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.keys) >= maxHeldKeys {
		clear(h.keys)
	}
	h.keys[id] = key
}

// tooManyFailures answers 429 with Retry-After for an address over its
// failure limit.
func tooManyFailures(w http.ResponseWriter, wait time.Duration) {
	secs := setRetryAfter(w, wait)
	writeError(w, scim.Errorf(http.StatusTooManyRequests, "", "too many failed authentications from this address; retry after %d s", secs))
}
