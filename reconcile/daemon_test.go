package reconcile_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rosterhq/roster/reconcile"
)

// TestDaemonRunsOnScheduleAndTrigger: a run at once, a run on trigger
// long before the interval, metrics by result, and a stop that lets the
// run in progress finish.
func TestDaemonRunsOnScheduleAndTrigger(t *testing.T) {
	var mu sync.Mutex
	runs := 0
	release := make(chan struct{})
	results := []error{nil, reconcile.ErrRefused, errors.New("ldap down"), nil}
	run := func(ctx context.Context) (*reconcile.Plan, *reconcile.Result, error) {
		mu.Lock()
		i := runs
		runs++
		mu.Unlock()
		if i == 3 {
			<-release // the run in progress when the daemon is stopped
		}
		err := results[min(i, len(results)-1)]
		switch {
		case errors.Is(err, reconcile.ErrRefused):
			return &reconcile.Plan{Refused: []string{"too many"}}, nil, err
		case err != nil:
			return nil, nil, err
		}
		return &reconcile.Plan{}, &reconcile.Result{Done: reconcile.Counts{Create: 2, MembersAdd: 3}}, nil
	}
	reg := prometheus.NewRegistry()
	d := reconcile.NewDaemon(run, reconcile.Every(time.Hour), reg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Serve(ctx) }()

	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return runs
	}
	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for count() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d runs, want %d", count(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(1) // at once
	srv := httptest.NewServer(d.TriggerHandler())
	defer srv.Close()
	for want := 2; want <= 4; want++ {
		resp, err := srv.Client().Post(srv.URL, "", nil)
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("trigger: %v %v", resp, err)
		}
		waitFor(want)
	}
	// The fourth run is in progress: stopping waits for it.
	cancel()
	select {
	case <-done:
		t.Fatal("Serve returned while a run was in progress")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for result, want := range map[string]float64{"ok": 2, "refused": 1, "error": 1} {
		m, err := d.RunsMetric(result)
		if err != nil || testutil.ToFloat64(m) != want {
			t.Errorf("runs{result=%s} = %v, want %v (%v)", result, testutil.ToFloat64(m), want, err)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "roster_sync_changes_total"); err != nil || n == 0 {
		t.Errorf("changes metric: %d, %v", n, err)
	}
}
