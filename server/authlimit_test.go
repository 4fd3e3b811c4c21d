package server_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
)

// lookupCounter is a store that counts the store lookups of credentials.
type lookupCounter struct {
	store.Store
	n atomic.Int64
}

func (c *lookupCounter) Authenticate(ctx context.Context, secret string) (store.Token, error) {
	c.n.Add(1)
	return c.Store.Authenticate(ctx, secret)
}

func (c *lookupCounter) AuthenticateClient(ctx context.Context, id, secret string) (store.Client, error) {
	c.n.Add(1)
	return c.Store.AuthenticateClient(ctx, id, secret)
}

func (c *lookupCounter) SigningKey(ctx context.Context, id string) (store.SigningKey, error) {
	c.n.Add(1)
	return c.Store.SigningKey(ctx, id)
}

// limitedAPI starts a server with the failure limit of cfg over a store
// that counts lookups, and returns a client of directory "acme".
func limitedAPI(t *testing.T, cfg server.Config) (*api, *lookupCounter) {
	t.Helper()
	st := &lookupCounter{Store: openStore(t)}
	cfg.Store, cfg.PasswordIterations, cfg.RateLimit = st, 1000, -1
	srv := httptest.NewServer(server.New(cfg))
	t.Cleanup(srv.Close)
	a := &api{root: srv.URL, base: srv.URL + "/scim/v2", st: st, http: &http.Client{Transport: srv.Client().Transport, Timeout: 60 * time.Second}}
	return a.tenant(t, "acme"), st
}

// from returns a client that connects from the loopback address ip
// (Linux routes all of 127.0.0.0/8 to lo), so that a test can be two
// client addresses.
func (a *api) from(ip string) *api {
	b := *a
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	b.http = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
	return &b
}

// retryAfter returns the Retry-After of a 429, failing the test unless it
// is a SCIM error with whole seconds from 1 to max.
func (r *response) retryAfter(t *testing.T, max int) int {
	t.Helper()
	r.mustFail(t, http.StatusTooManyRequests, "")
	s, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || s < 1 || s > max {
		t.Fatalf("%v; Retry-After is %q, want 1 to %d seconds", r, r.Header.Get("Retry-After"), max)
	}
	return s
}

func TestFailedAuthenticationsAreLimitedPerAddress(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		const burst = 5
		a, st := limitedAPI(t, server.Config{AuthFailureLimit: 0.001, AuthFailureBurst: burst})
		ctx := context.Background()
		// A real client authenticates before the attack: with its token, with
		// HTTP Basic and with an OAuth access token.
		a.must(t, 200, "GET", "/Users", nil)
		client, clientSecret, err := a.st.CreateClient(ctx, a.dir.ID, "entra")
		if err != nil {
			t.Fatal(err)
		}
		status, tok := postToken(t, a, url.Values{"grant_type": {"client_credentials"}}, client.ID, clientSecret)
		if status != 200 {
			t.Fatalf("token endpoint: %d %v", status, tok)
		}
		a.withToken(tok["access_token"].(string)).must(t, 200, "GET", "/Users", nil)

		// An attacker on the same address fails burst times, then gets 429
		// without the store being asked.
		wrong := a.withToken("rst_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		for range burst {
			wrong.mustFail(t, 401, "", "GET", "/Users", nil)
		}
		before := st.n.Load()
		for range 50 {
			wrong.do(t, "GET", "/Users", nil).retryAfter(t, 2000)
		}
		a.withToken("a.b.c").do(t, "GET", "/Users", nil).retryAfter(t, 2000)
		if n := st.n.Load() - before; n != 0 {
			t.Errorf("the store was asked %d times about credentials from an address over its limit, want 0", n)
		}

		// The real client's credentials still work from that address: its
		// token, as bearer and as HTTP Basic, its client secret, and an
		// access token signed by a key the server holds, even a new one.
		a.must(t, 200, "GET", "/Users", nil)
		a.withToken("").must(t, 200, "GET", "/Users", nil, "Authorization", "Basic "+basic(a.dir.Name, a.token))
		status, tok = postToken(t, a, url.Values{"grant_type": {"client_credentials"}}, client.ID, clientSecret)
		if status != 200 {
			t.Fatalf("token endpoint for a known client from a limited address: %d %v", status, tok)
		}
		a.withToken(tok["access_token"].(string)).must(t, 200, "GET", "/Users", nil)

		// Other credentials wait, at the token endpoint too.
		_, fresh, err := a.st.CreateToken(ctx, a.dir.ID, "fresh", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		a.withToken(fresh).do(t, "GET", "/Users", nil).retryAfter(t, 2000)
		status, body := postToken(t, a, url.Values{"grant_type": {"client_credentials"}}, client.ID, "wrong")
		if status != 429 || body["error"] != "temporarily_unavailable" {
			t.Errorf("token endpoint with a wrong secret from a limited address: %d %v, want 429", status, body)
		}

		// Another address has its own count.
		other := wrong.from("127.0.0.2")
		other.mustFail(t, 401, "", "GET", "/Users", nil)
		other.withToken(fresh).must(t, 200, "GET", "/Users", nil)
	})
}

func TestAddressesRecoverFromTheFailureLimit(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		a, _ := limitedAPI(t, server.Config{AuthFailureLimit: 4, AuthFailureBurst: 2})
		wrong := a.withToken("rst_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		wrong.mustFail(t, 401, "", "GET", "/Users", nil)
		wrong.mustFail(t, 401, "", "GET", "/Users", nil)
		wait := wrong.do(t, "GET", "/Users", nil).retryAfter(t, 1)
		// Requests without credentials cost nothing and are not failures.
		for range 5 {
			a.withToken("").mustFail(t, 401, "", "GET", "/Users", nil)
		}
		time.Sleep(time.Duration(wait) * time.Second)
		wrong.mustFail(t, 401, "", "GET", "/Users", nil)
	})
}

func TestTheFailureLimitCanBeTurnedOff(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		a, _ := limitedAPI(t, server.Config{AuthFailureLimit: -1})
		wrong := a.withToken("rst_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		for range 100 {
			wrong.mustFail(t, 401, "", "GET", "/Users", nil)
		}
	})
}
