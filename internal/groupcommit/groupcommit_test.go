package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// gate is a flush that waits at its start until opened, records the
// batches it took and fails the items whose value is odd.
type gate struct {
	open    chan struct{}
	mu      sync.Mutex
	batches [][]int
}

func (g *gate) flush(ctx context.Context, take func() []*Item[int]) bool {
	select {
	case <-g.open:
	case <-ctx.Done():
		return false
	}
	var batch []int
	for _, it := range take() {
		batch = append(batch, it.Value)
		if it.Value%2 == 1 {
			it.Err = fmt.Errorf("odd %d", it.Value)
		}
	}
	g.mu.Lock()
	g.batches = append(g.batches, batch)
	g.mu.Unlock()
	return true
}

func waitPending[T any](t *testing.T, g *Group[T], n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); g.Pending() != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d pending, want %d", g.Pending(), n)
		}
	}
}

func TestItemsWaitingTogetherAreFlushedTogetherEachWithItsOutcome(t *testing.T) {
	gt := &gate{open: make(chan struct{})}
	g := New(4, gt.flush)
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = g.Do(context.Background(), i) })
	}
	waitPending(t, g, n) // the first leader waits at the gate, its item still pending
	close(gt.open)
	wg.Wait()
	for i, err := range errs {
		if (i%2 == 1) != (err != nil) {
			t.Errorf("item %d: %v", i, err)
		}
	}
	seen := map[int]bool{}
	for _, b := range gt.batches {
		if len(b) > 4 {
			t.Errorf("a batch of %d, more than the maximum of 4", len(b))
		}
		for _, v := range b {
			if seen[v] {
				t.Errorf("item %d flushed twice", v)
			}
			seen[v] = true
		}
	}
	if len(seen) != n || len(gt.batches) != 3 {
		t.Fatalf("batches %v: want all %d items in 3 batches (4, 4, 2)", gt.batches, n)
	}
}

func TestAnItemWhoseCallerGivesUpBeforeItIsTakenIsDropped(t *testing.T) {
	gt := &gate{open: make(chan struct{})}
	g := New(8, gt.flush)
	ctx, cancel := context.WithCancel(context.Background())
	quit := make(chan error, 1)
	go func() { quit <- g.Do(ctx, 2) }() // leads, or waits behind the leader
	stay := make(chan error, 1)
	go func() { stay <- g.Do(context.Background(), 4) }()
	waitPending(t, g, 2)
	cancel()
	if err := <-quit; !errors.Is(err, context.Canceled) {
		t.Fatalf("the item given up: %v, want context.Canceled", err)
	}
	close(gt.open)
	if err := <-stay; err != nil {
		t.Fatal(err)
	}
	for _, b := range gt.batches {
		for _, v := range b {
			if v == 2 {
				t.Fatalf("batches %v: the item given up was flushed", gt.batches)
			}
		}
	}
}

// TestAFlushThatPanicsFailsTheItemsItTookAndFreesTheGroup: a panic in a
// flush (which an HTTP server recovers from, in the leader's handler)
// must neither report the items it took as committed nor keep the group
// led forever.
func TestAFlushThatPanicsFailsTheItemsItTookAndFreesTheGroup(t *testing.T) {
	open := make(chan struct{})
	var mu sync.Mutex
	panicked := false
	g := New(8, func(ctx context.Context, take func() []*Item[int]) bool {
		<-open
		items := take()
		mu.Lock()
		defer mu.Unlock()
		if !panicked && len(items) > 0 {
			panicked = true
			panic("flush failed")
		}
		return true
	})
	type outcome struct {
		err      error
		panicked bool
	}
	do := func(v int) (o outcome) {
		defer func() {
			if recover() != nil {
				o.panicked = true
			}
		}()
		o.err = g.Do(context.Background(), v)
		return
	}
	outcomes := make(chan outcome, 2)
	go func() { outcomes <- do(1) }()
	go func() { outcomes <- do(2) }()
	waitPending(t, g, 2)
	close(open)
	a, b := <-outcomes, <-outcomes
	if a.panicked == b.panicked {
		t.Fatalf("outcomes %+v, %+v: want the leader's panic and the other's error", a, b)
	}
	if other := map[bool]outcome{true: b, false: a}[a.panicked]; other.err == nil {
		t.Errorf("an item taken by a flush that panicked was reported committed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.Do(ctx, 4); err != nil {
		t.Fatalf("a Do after the panic: %v", err)
	}
}

// On one core, callers that are ready to run when a leader takes the
// waiting items join its flush: eight at once make one or two flushes,
// not eight.
func TestReadyCallersJoinTheFlush(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var mu sync.Mutex
	var sizes []int
	g := New(64, func(ctx context.Context, take func() []*Item[int]) bool {
		n := len(take())
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
		return true
	})
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			<-start
			if err := g.Do(context.Background(), i); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(sizes) > 2 {
		t.Errorf("8 callers ready at once were flushed in %d flushes %v; want at most 2", len(sizes), sizes)
	}
}
