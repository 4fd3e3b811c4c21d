package server

import (
	"context"
	"sync"
	"time"

	"github.com/rosterhq/roster/store"
)

// maxCachedTokens bounds the token cache; when it is full, it starts
// over, which costs one store lookup per token.
const maxCachedTokens = 10000

// tokenCache remembers, for a short time, which secrets authenticated as
// which tokens, so that a busy client costs the store one lookup every
// ttl instead of one per request. A revoked token therefore works for at
// most ttl more on a server that has just seen it; an expired one never
// does, since every hit checks the expiry.
type tokenCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]cachedToken // by the secret's hash
}

type cachedToken struct {
	tok     store.Token
	expires time.Time
}

func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, entries: make(map[string]cachedToken)}
}

// authenticate returns the token of secret from the cache or, failing
// that, from the store.
func (c *tokenCache) authenticate(ctx context.Context, st store.Tokens, secret string) (store.Token, error) {
	if c.ttl <= 0 {
		return st.Authenticate(ctx, secret)
	}
	key := store.HashSecret(secret)
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) && (e.tok.Expires.IsZero() || now.Before(e.tok.Expires)) {
		return e.tok, nil
	}
	tok, err := st.Authenticate(ctx, secret)
	if err != nil {
		return tok, err
	}
	c.mu.Lock()
	if len(c.entries) >= maxCachedTokens {
		clear(c.entries)
	}
	c.entries[key] = cachedToken{tok: tok, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return tok, nil
}
