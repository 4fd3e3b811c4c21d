package event_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster/event"
	"github.com/rosterhq/roster/store"
)

// rareRevocations makes a directory whose events are directory.created
// (seq 1), 29 token.created and, among them, token.revoked at seqs 14 and
// 27, the newest being seq 32.
func rareRevocations(t *testing.T, st store.Store) string {
	t.Helper()
	ctx := context.Background()
	d, err := st.CreateDirectory(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, step := range []int{12, -1, 12, -1, 5} {
		if step < 0 {
			if err := st.RevokeToken(ctx, d.ID, fmt.Sprintf("t%d", n-1)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		for range step {
			if _, _, err := st.CreateToken(ctx, d.ID, fmt.Sprintf("t%d", n), time.Time{}); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return d.ID
}

// TestReadPageLooksThroughAWindow holds ReadPage to its window: a read of
// a rare type looks through window events at a time, moving Next past
// those that do not match and saying More until it reaches the newest
// event, and it misses none of the type.
func TestReadPageLooksThroughAWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := open(t)
	dir := rareRevocations(t, st)

	var got []int64
	var nexts []int64
	q := store.EventQuery{Directory: dir, Types: []string{store.TokenRevoked}, Limit: 100}
	for {
		p, err := event.ReadPage(ctx, st, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			got = append(got, e.Seq)
		}
		nexts = append(nexts, p.Next)
		if !p.More {
			break
		}
		if len(nexts) > 10 {
			t.Fatalf("still More after reads ending at %v", nexts)
		}
		q.After = p.Next
	}
	if want := []int64{14, 27}; !slices.Equal(got, want) {
		t.Errorf("token.revoked at %v, want %v", got, want)
	}
	if want := []int64{10, 20, 30, 32}; !slices.Equal(nexts, want) {
		t.Errorf("reads ended at %v, want %v", nexts, want)
	}

	for _, tc := range []struct {
		name   string
		q      store.EventQuery
		window int64
		seqs   []int64
		next   int64
		more   bool
	}{
		{"a full page of a type", store.EventQuery{Types: []string{store.TokenRevoked}, Limit: 1}, 100, []int64{14}, 14, true},
		{"a type past the newest", store.EventQuery{After: 32, Types: []string{store.TokenRevoked}, Limit: 5}, 10, nil, 32, false},
		{"after a seq not yet given", store.EventQuery{After: 40, Types: []string{store.TokenRevoked}, Limit: 5}, 10, nil, 40, false},
		{"no types: a full page", store.EventQuery{Limit: 5}, 2, []int64{1, 2, 3, 4, 5}, 5, true},
		{"no types: the last page", store.EventQuery{After: 30, Limit: 5}, 2, []int64{31, 32}, 32, false},
		{"no types, nothing new", store.EventQuery{After: 32, Limit: 5}, 2, nil, 32, false},
	} {
		tc.q.Directory = dir
		p, err := event.ReadPage(ctx, st, tc.q, tc.window)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, e := range p.Events {
			seqs = append(seqs, e.Seq)
		}
		if !slices.Equal(seqs, tc.seqs) || p.Next != tc.next || p.More != tc.more {
			t.Errorf("%s: seqs %v, Next %d, More %v; want %v, %d, %v", tc.name, seqs, p.Next, p.More, tc.seqs, tc.next, tc.more)
		}
	}
}

// TestFollowerOfARareTypeReadsOnAcrossWindows holds that a follower of a
// type reads window after window without waiting for its poll (an hour
// here) until it reaches the newest event, then is woken by the next.
func TestFollowerOfARareTypeReadsOnAcrossWindows(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := open(t)
	dir := rareRevocations(t, st)
	c := newCollector()
	f := &event.Follower{Store: st, Directory: dir, Types: []string{store.TokenRevoked}, Window: 3, Poll: time.Hour}
	done := make(chan error, 1)
	go func() { done <- f.Follow(ctx, c.add) }()
	c.wait(t, 2)
	if err := st.RevokeToken(ctx, dir, "t0"); err != nil {
		t.Fatal(err)
	}
	got := c.wait(t, 3)
	var seqs []int64
	for _, e := range got {
		seqs = append(seqs, e.Seq)
	}
	if want := []int64{14, 27, 33}; !slices.Equal(seqs, want) {
		t.Errorf("handed on seqs %v, want %v", seqs, want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Follow after its context ended: %v", err)
	}
}

// TestReadPageStepsOverPrunedSeqs: a read of a type from before the
// events retention kept starts its window at the first event kept, not
// window seqs at a time through those pruned.
func TestReadPageStepsOverPrunedSeqs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := open(t)
	d, err := st.CreateDirectory(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if _, _, err := st.CreateToken(ctx, d.ID, fmt.Sprintf("t%d", i), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	for {
		n, err := st.PruneEvents(ctx, time.Now().Add(time.Hour), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if err := st.RevokeToken(ctx, d.ID, "t5"); err != nil {
		t.Fatal(err)
	}
	p, err := event.ReadPage(ctx, st, store.EventQuery{Directory: d.ID, Types: []string{store.TokenRevoked}, Limit: 10}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != 1 || p.Events[0].Seq != 202 || p.Next != 202 || p.More {
		t.Fatalf("after pruning: %d events, Next %d, More %v; want token.revoked at 202 in one read", len(p.Events), p.Next, p.More)
	}
}
