package event

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rosterhq/roster/store"
)

// DefaultPoll is how often a follower looks for events other processes
// wrote, when it is not woken sooner.
const DefaultPoll = time.Second

// batch is the most events a follower reads at once.
const batch = 1000

// Follower tails the events of one directory.
type Follower struct {
	Store     store.Events
	Directory string // the directory's id
	// After is the seq to start after; Follow advances it as it hands
	// events on.
	After int64
	// Types, when not empty, keeps only events of these types.
	Types []string
	// Window is the most events a read of Types looks through (default
	// DefaultWindow; see ReadPage).
	Window int64
	// Poll is how often to look for other processes' events (default
	// DefaultPoll).
	Poll time.Duration
}

// Follow calls fn with each event of the directory after f.After, in
// order, as they commit, until ctx ends (returning nil) or reading or fn
// fails (returning that error). fn sees an event only once it returned
// for the one before.
func (f *Follower) Follow(ctx context.Context, fn func(store.Event) error) error {
	poll := f.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	t := time.NewTimer(poll)
	defer t.Stop()
	for {
		// Asked for before reading, so that a commit between the read and
		// the wait still wakes it.
		written := f.Store.EventsWritten()
		more, err := f.read(ctx, fn)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if !more && !wait(ctx, t, poll, written) {
			return nil
		}
	}
}

// wait waits for a commit (written), for poll to pass on t, or for ctx to
// end, which it reports as false.
func wait(ctx context.Context, t *time.Timer, poll time.Duration, written <-chan struct{}) bool {
	t.Reset(poll)
	select {
	case <-ctx.Done():
		return false
	case <-written:
	case <-t.C:
	}
	return true
}

// read hands on the events after f.After, one page (see ReadPage), and
// says whether more may be there already.
func (f *Follower) read(ctx context.Context, fn func(store.Event) error) (more bool, err error) {
	p, err := ReadPage(ctx, f.Store, store.EventQuery{Directory: f.Directory, After: f.After, Types: f.Types, Limit: batch}, f.Window)
	if err != nil {
		return false, fmt.Errorf("event: follow: %w", err)
	}
	for _, e := range p.Events {
		if err := fn(e); err != nil {
			return false, err
		}
		f.After = e.Seq
	}
	f.After = p.Next
	return p.More, nil
}

// Source is what FollowAll reads: the events and the directories.
type Source interface {
	store.Events
	Directories(ctx context.Context) ([]store.Directory, error)
}

// FollowAll calls fn with the events of every directory as they commit,
// from now on (the events written before it starts are not handed on,
// except those of directories created since), until ctx ends or reading
// or fn fails. Each directory's events come in their seq order; the
// events of different directories interleave in no promised order.
func FollowAll(ctx context.Context, src Source, poll time.Duration, fn func(store.Event) error) error {
	if poll <= 0 {
		poll = DefaultPoll
	}
	after := map[string]int64{}
	dirs, err := src.Directories(ctx)
	if err != nil {
		return fmt.Errorf("event: follow: %w", err)
	}
	for _, d := range dirs {
		if after[d.ID], err = src.LastEventSeq(ctx, d.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("event: follow: %w", err)
		}
	}
	t := time.NewTimer(poll)
	defer t.Stop()
	for {
		written := src.EventsWritten()
		dirs, err := src.Directories(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("event: follow: %w", err)
		}
		// A directory deleted since the last look is read once more, for
		// its directory.deleted, and then forgotten.
		live := map[string]bool{}
		for _, d := range dirs {
			live[d.ID] = true
			if _, ok := after[d.ID]; !ok {
				after[d.ID] = 0 // created since: from its first event
			}
		}
		more := false
		for id, seq := range after {
			f := Follower{Store: src, Directory: id, After: seq}
			fmore, err := f.read(ctx, fn)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			after[id] = f.After
			more = more || fmore
			if !live[id] && !fmore {
				delete(after, id)
			}
		}
		if !more && !wait(ctx, t, poll, written) {
			return nil
		}
	}
}

// DefaultRetention is how long events are kept by default.
const DefaultRetention = 30 * 24 * time.Hour

// pruneBatch is the most events one prune transaction deletes, so that it
// holds writers back for milliseconds only.
const pruneBatch = 1000

// Prune deletes the events older than retention every interval until ctx
// ends, in batches of pruneBatch, and reports each round's failure to
// onError (nil: ignored).
func Prune(ctx context.Context, st store.Events, retention, interval time.Duration, onError func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := st.PruneEvents(ctx, time.Now().Add(-retention), pruneBatch)
			if err != nil {
				if ctx.Err() == nil && onError != nil {
					onError(err)
				}
				break
			}
			if n < pruneBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
