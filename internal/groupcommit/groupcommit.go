// Package groupcommit commits work that arrives at once together: one
// transaction, one log flush, for many callers.
//
// A database that writes one transaction at a time pays for each commit
// (SQLite writes every page a transaction changed to its log; PostgreSQL
// waits for its log to reach the disk). When callers arrive together, the
// first to find no commit under way leads: it takes every item waiting
// (up to a maximum) into one transaction and hands each its own result;
// the items that arrive meanwhile wait for the next leader. No goroutine
// runs between commits, so an idle Group costs nothing.
package groupcommit

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
)

// Item is a caller's piece of work waiting to be committed.
type Item[T any] struct {
	// Ctx is the caller's context. A flush should skip an item whose
	// Ctx has ended (setting Err to Ctx.Err()), and must not let it
	// cancel the statements it runs for the others.
	Ctx   context.Context
	Value T
	// Err is the item's outcome, set by the flush: nil when its work was
	// committed.
	Err error

	done chan struct{}
}

// Flush commits a batch. It runs in the leader's goroutine under ctx, the
// leader's context, which should bound only its wait to get ready (for a
// connection, to begin a transaction). Once ready it calls take, once, for
// the items waiting, does their work, commits, and sets each item's Err.
// It reports false if ctx ended before it was ready, having taken
// nothing.
type Flush[T any] func(ctx context.Context, take func() []*Item[T]) bool

// Group gathers items for a Flush. Its zero value is not usable; see New.
type Group[T any] struct {
	max    int
	flush  Flush[T]
	leader chan struct{} // holds a token while a leader flushes

	mu      sync.Mutex
	pending []*Item[T]
}

// New returns a Group that flushes at most max items at once with flush.
func New[T any](max int, flush Flush[T]) *Group[T] {
	return &Group[T]{max: max, flush: flush, leader: make(chan struct{}, 1)}
}

// Do adds v to the next flush and returns its outcome once that flush is
// over. If ctx ends before a flush takes the item, the item is dropped and
// ctx's error returned; once taken, Do waits for the flush, as the item's
// outcome is then the transaction's.
func (g *Group[T]) Do(ctx context.Context, v T) error {
	it := &Item[T]{Ctx: ctx, Value: v, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, it)
	g.mu.Unlock()
	for {
		select {
		case <-it.done:
			return it.Err
		case g.leader <- struct{}{}:
			// lead gives the token back, even if the flush panics.
			ready := g.lead(ctx)
			if !ready && g.withdraw(it) { // ctx ended before the flush was ready
				return ctx.Err()
			}
			select {
			case <-it.done:
				return it.Err
			default: // more than max were waiting: lead again, or wait
			}
		case <-ctx.Done():
			if g.withdraw(it) {
				return ctx.Err()
			}
			<-it.done // taken: the flush decides
			return it.Err
		}
	}
}

// Pending returns how many items wait for a flush to take them.
func (g *Group[T]) Pending() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.pending)
}

// withdraw removes it from the items waiting, reporting whether it was
// still there.
func (g *Group[T]) withdraw(it *Item[T]) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	i := slices.Index(g.pending, it)
	if i < 0 {
		return false
	}
	g.pending = slices.Delete(g.pending, i, i+1)
	return true
}

// ErrFlushPanicked is the outcome of the items taken by a flush that
// panicked: whether their work was committed is not known.
var ErrFlushPanicked = errors.New("groupcommit: the flush panicked; the outcome is unknown")

// lead runs one flush, ends the items it took and gives back the leader's
// token. Should the flush panic (a server may recover from it in the
// leader's goroutine), the items it took fail with ErrFlushPanicked
// rather than look committed, and the group can be led again.
func (g *Group[T]) lead(ctx context.Context) bool {
	defer func() { <-g.leader }()
	var taken []*Item[T]
	returned := false
	took := false
	take := func() []*Item[T] {
		if took {
			return nil // a Flush that calls take twice gets nothing more
		}
		took = true
		// Let the goroutines that are ready to run go first: on a
		// machine with fewer cores than callers, those on their way to Do
		// (decoding their requests) join this flush instead of waiting
		// for the next, so that one commit carries many.
		runtime.Gosched()
		g.mu.Lock()
		n := min(len(g.pending), g.max)
		taken = slices.Clone(g.pending[:n])
		g.pending = slices.Delete(g.pending, 0, n)
		g.mu.Unlock()
		return taken
	}
	defer func() {
		for _, it := range taken {
			if !returned && it.Err == nil {
				it.Err = ErrFlushPanicked
			}
			close(it.done)
		}
	}()
	ready := g.flush(ctx, take)
	returned = true
	return ready
}
