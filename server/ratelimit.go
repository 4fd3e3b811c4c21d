package server

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/rosterhq/roster/scim"
)

// limiters holds one token bucket per bearer token. Limits are per
// process: replicas behind a load balancer each allow the rate.
type limiters struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	byID  map[string]*rate.Limiter
}

func newLimiters(perSecond float64, burst int) *limiters {
	if perSecond <= 0 {
		return nil
	}
	return &limiters{rate: rate.Limit(perSecond), burst: max(burst, 1), byID: map[string]*rate.Limiter{}}
}

// allow reports whether the token may make a request now and, if not, how
// long to wait.
func (l *limiters) allow(tokenID string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	r := l.of(tokenID).Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return false, d
	}
	return true, 0
}

// wait takes a token's next request from its bucket, waiting until the
// bucket holds one or ctx ends (the error then).
func (l *limiters) wait(ctx context.Context, tokenID string) error {
	if l == nil {
		return nil
	}
	r := l.of(tokenID).Reserve()
	t := time.NewTimer(r.Delay())
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	}
}

// of returns the bucket of a token.
func (l *limiters) of(tokenID string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.byID[tokenID]
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.byID[tokenID] = lim
	}
	return lim
}

// tooManyRequests answers 429 with Retry-After for a token over its rate.
func tooManyRequests(w http.ResponseWriter, wait time.Duration) {
	secs := setRetryAfter(w, wait)
	writeError(w, scim.Errorf(http.StatusTooManyRequests, "", "too many requests for this token; retry after %d s", secs))
}

// setRetryAfter sets Retry-After to wait in whole seconds (RFC 9110
// §10.2.3), rounded up and at least one, and returns them for the body.
func setRetryAfter(w http.ResponseWriter, wait time.Duration) int {
	secs := max(int(math.Ceil(wait.Seconds())), 1)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return secs
}
