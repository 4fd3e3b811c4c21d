package event

import (
	"context"
	"fmt"

	"github.com/rosterhq/roster/store"
)

// DefaultWindow is the most events a read of a few types looks through
// (see ReadPage): about 10 ms of the store's time.
const DefaultWindow = 10_000

// A Page is what ReadPage read.
type Page struct {
	// Events are the events read, in seq order.
	Events []store.Event
	// Next is the seq the next read starts after: the last event's, or,
	// when a read of a few types found fewer than its limit, the last
	// seq it looked through, so that the next read does not look through
	// those events again.
	Next int64
	// More says that events past Next may already be there: the reader
	// should read again at once rather than wait for new ones.
	More bool
}

// ReadPage reads the events q selects (q.Through is ignored). Without
// q.Types it is one call of st.Events. With them, it looks through at
// most window events from the first after q.After (DefaultWindow if
// window ≤ 0), and no further than the directory's newest event when it
// starts: a type that is rare among many events (user.deleted among a
// million user.updated) would otherwise have the store read them all at
// every call, and a follower at every commit. Page.Next can then move past
// events that did not match; no event past it is missed, since every
// event the directory gets later has a greater seq than its newest one
// now.
func ReadPage(ctx context.Context, st store.Events, q store.EventQuery, window int64) (Page, error) {
	q.Through, q.Limit = 0, max(q.Limit, 1)
	if window <= 0 {
		window = DefaultWindow
	}
	last := int64(0)
	if len(q.Types) > 0 {
		var err error
		if last, err = st.LastEventSeq(ctx, q.Directory); err != nil {
			return Page{}, fmt.Errorf("event: read directory %s: %w", q.Directory, err)
		}
		if last <= q.After {
			return Page{Next: q.After}, nil
		}
		// The window starts at the first event kept after q.After: seqs
		// that retention pruned (tens of millions, in an old directory)
		// are not looked through window by window.
		first, err := st.Events(ctx, store.EventQuery{Directory: q.Directory, After: q.After, Limit: 1})
		if err != nil {
			return Page{}, fmt.Errorf("event: read directory %s: %w", q.Directory, err)
		}
		if len(first) == 0 {
			return Page{Next: q.After}, nil
		}
		q.Through = min(last, first[0].Seq-1+window)
	}
	events, err := st.Events(ctx, q)
	if err != nil {
		return Page{}, fmt.Errorf("event: read directory %s: %w", q.Directory, err)
	}
	p := Page{Events: events, Next: q.After}
	if len(events) > 0 {
		p.Next = events[len(events)-1].Seq
	}
	switch {
	case len(events) == q.Limit:
		p.More = true
	case q.Through > 0:
		p.Next, p.More = q.Through, q.Through < last
	}
	return p, nil
}
