package event_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/event"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlite"
)

func open(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// collector gathers the events a follower hands on.
type collector struct {
	mu     sync.Mutex
	events []store.Event
	added  chan struct{}
}

func newCollector() *collector { return &collector{added: make(chan struct{}, 1000)} }

func (c *collector) add(e store.Event) error {
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
	c.added <- struct{}{}
	return nil
}

// wait waits for n events in all, failing after 10 s.
func (c *collector) wait(t *testing.T, n int) []store.Event {
	t.Helper()
	for {
		c.mu.Lock()
		got := append([]store.Event(nil), c.events...)
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-c.added:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d events after 10 s, want %d", len(got), n)
		}
	}
}

// TestFollowerIsWokenByCommits holds that a follower with a poll interval
// of an hour still hands on each event as it commits, in order, from
// after the seq it was given.
func TestFollowerIsWokenByCommits(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := open(t)
	d, err := st.CreateDirectory(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	f := &event.Follower{Store: st, Directory: d.ID, After: 0, Poll: time.Hour}
	done := make(chan error, 1)
	go func() { done <- f.Follow(ctx, c.add) }()
	if got := c.wait(t, 1); got[0].Type != store.DirectoryCreated {
		t.Fatalf("first: %v", got[0].Type)
	}
	for _, name := range []string{"okta", "entra"} {
		if _, _, err := st.CreateToken(ctx, d.ID, name, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	got := c.wait(t, 3)
	for i, e := range got {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Follow after its context ended: %v", err)
	}
}

// TestFollowerStopsOnItsHandlersError holds that an error of the handler
// ends Follow with it, and After names the last event handled.
func TestFollowerStopsOnItsHandlersError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := open(t)
	d, err := st.CreateDirectory(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.CreateToken(ctx, d.ID, "okta", time.Time{}); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	f := &event.Follower{Store: st, Directory: d.ID}
	err = f.Follow(ctx, func(e store.Event) error {
		if e.Seq == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || f.After != 1 {
		t.Fatalf("Follow = %v, After %d; want the handler's error and After 1", err, f.After)
	}
}

// TestFollowAllSeesNewAndDeletedDirectories holds that FollowAll hands on
// every directory's events from when it starts: not the older ones, all
// of a directory created since, and the last of one deleted since.
func TestFollowAllSeesNewAndDeletedDirectories(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := open(t)
	old, err := st.CreateDirectory(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	go event.FollowAll(ctx, st, 10*time.Millisecond, func(e store.Event) error {
		return c.add(e)
	})
	// What FollowAll saw of "old" at its start is not handed on: create
	// tokens until it hands one on, which tells that it follows.
	for i := 0; ; i++ {
		if _, _, err := st.CreateToken(ctx, old.ID, fmt.Sprint("t", i), time.Time{}); err != nil {
			t.Fatal(err)
		}
		if i == 1000 {
			t.Fatal("FollowAll handed on none of 1,000 tokens")
		}
		select {
		case <-c.added:
			c.added <- struct{}{} // for wait
		case <-time.After(10 * time.Millisecond):
			continue
		}
		break
	}
	got := c.wait(t, 1)
	if got[0].Type != store.TokenCreated || got[0].Directory != old.ID {
		t.Fatalf("first event: %+v", got[0])
	}
	for _, e := range got {
		if e.Type == store.DirectoryCreated {
			t.Fatalf("an event older than FollowAll was handed on: %+v", e)
		}
	}
	seen := len(c.wait(t, 1))
	nu, err := st.CreateDirectory(ctx, "new")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteDirectory(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	for n := seen + 1; ; n++ {
		types := map[string]string{}
		for _, e := range c.wait(t, n) {
			if e.Type != store.TokenCreated {
				types[e.Directory] = e.Type
			}
		}
		if types[nu.ID] == store.DirectoryCreated && types[old.ID] == store.DirectoryDeleted {
			break
		}
	}
}
