package server

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/store"
)

// hangingKeys is a store whose database stops answering after the first
// CurrentSigningKey: later calls wait until their context ends.
type hangingKeys struct {
	store.Store
	calls atomic.Int32
}

func (h *hangingKeys) CurrentSigningKey(ctx context.Context, _ time.Duration) (store.SigningKey, error) {
	if h.calls.Add(1) == 1 {
		return store.SigningKey{ID: "k1", Key: make([]byte, 32), Created: time.Now()}, nil
	}
	<-ctx.Done()
	return store.SigningKey{}, ctx.Err()
}

// TestACursorWaitsForTheStoreWithinItsOwnDeadline: while one request's
// refresh of the signing key hangs, another request's cursor waits for the
// store only as long as its own context allows, not until the first one
// gives up.
func TestACursorWaitsForTheStoreWithinItsOwnDeadline(t *testing.T) {
	t.Parallel()
	h := &hangingKeys{}
	c := newCursors(h, nil, time.Minute)
	if _, err := c.encode(context.Background(), "d", "User", "", "1"); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.fetched = time.Now().Add(-2 * time.Minute) // due for a refresh
	c.mu.Unlock()

	stuck, unstick := context.WithCancel(context.Background())
	defer unstick()
	go c.encode(stuck, "d", "User", "", "2")
	for h.calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.encode(ctx, "d", "User", "", "3")
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a cursor waited past its deadline for another request's refresh of the signing key")
	}
}
