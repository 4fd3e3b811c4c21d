package server_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rosterhq/roster/server"
)

// TestTokenCacheHonoursRevocationAndExpiry: a server remembers a valid
// token for TokenCacheTTL, so a revocation takes at most that long to
// reach it, and an expired token is refused at once whatever the cache
// holds.
func TestTokenCacheHonoursRevocationAndExpiry(t *testing.T) {
	t.Parallel()
	const ttl = 300 * time.Millisecond
	a := newAPI(t, server.Config{TokenCacheTTL: ttl})
	ctx := context.Background()

	_, secret, err := a.st.CreateToken(ctx, a.dir.ID, "revoked-soon", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	b := a.withToken(secret)
	b.must(t, 200, "GET", "/Users", nil)
	if err := a.st.RevokeToken(ctx, a.dir.ID, "revoked-soon"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(ttl + 100*time.Millisecond)
	b.mustFail(t, 401, "", "GET", "/Users", nil)

	// A second server on the same store that caches for an hour.
	srv := httptest.NewServer(server.New(server.Config{Store: a.st, TokenCacheTTL: time.Hour, RateLimit: -1}))
	t.Cleanup(srv.Close)
	long := *a
	long.base = srv.URL + "/scim/v2"
	_, secret, err = a.st.CreateToken(ctx, a.dir.ID, "expires-soon", time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	long.withToken(secret).must(t, 200, "GET", "/Users", nil)
	time.Sleep(1100 * time.Millisecond)
	long.withToken(secret).mustFail(t, 401, "", "GET", "/Users", nil)
}
