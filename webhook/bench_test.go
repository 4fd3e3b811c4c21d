package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/webhook"
)

// countingReceiver answers 204 to every delivery and signals arrived
// when it has had want of them.
type countingReceiver struct {
	n       atomic.Int64
	want    atomic.Int64
	arrived chan time.Time
}

func newCountingReceiver(b *testing.B) (*countingReceiver, string) {
	r := &countingReceiver{arrived: make(chan time.Time, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		if n := r.n.Add(1); n == r.want.Load() {
			r.arrived <- time.Now()
		}
	}))
	b.Cleanup(srv.Close)
	return r, srv.URL
}

// memberEvents writes n events into dir quickly: the members of a group
// of 100 users added and removed, one event per member, 100 to a
// transaction.
func memberEvents(b *testing.B, st store.Store, dir string, n int) {
	b.Helper()
	var ids []string
	for i := range 100 {
		ids = append(ids, create(b, st, dir, users, fmt.Sprintf(`{"userName":"bench%d"}`, i)).ID())
	}
	g := create(b, st, dir, groups, `{"displayName":"bench"}`)
	var values []string
	for _, id := range ids {
		values = append(values, fmt.Sprintf(`{"value":%q}`, id))
	}
	list := "[" + strings.Join(values, ",") + "]"
	for written := 200; written < n; written += 200 {
		patchOps(b, st, dir, groups, g.ID(), `{"op":"add","path":"members","value":`+list+`}`)
		patchOps(b, st, dir, groups, g.ID(), `{"op":"remove","path":"members"}`)
	}
}

// BenchmarkDeliveryThroughput delivers a backlog of events of one
// directory to one webhook on a loopback receiver: the
// delivery's own rate, in order, one POST at a time.
func BenchmarkDeliveryThroughput(b *testing.B) {
	eachStore(b, func(b *testing.B, st store.Store) {
		ctx := context.Background()
		dir := newDirectory(b, st)
		r, url := newCountingReceiver(b)
		w, err := st.CreateWebhook(ctx, store.WebhookSpec{URL: url, Directory: dir.ID})
		if err != nil {
			b.Fatal(err)
		}
		memberEvents(b, st, dir.ID, max(b.N, 1000))
		last, _ := st.LastEventSeq(ctx, dir.ID)
		cs, _ := st.WebhookCursors(ctx, w.ID)
		events := last - cs[0].Seq
		r.want.Store(events)
		d := webhook.New(webhook.Config{Store: st, AllowPrivate: true, Poll: time.Hour})
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		b.ResetTimer()
		start := time.Now()
		go func() { done <- d.Run(runCtx) }()
		end := <-r.arrived
		b.StopTimer()
		cancel()
		<-done
		b.ReportMetric(float64(events)/end.Sub(start).Seconds(), "events/s")
		b.ReportMetric(float64(events), "events")
	})
}

// BenchmarkDeliveryLag measures, for each of b.N users created one after
// another, the time from the create's commit to its delivery to
// a loopback receiver that keeps up, the server waking the deliverer
// after the commit as roster serve does.
func BenchmarkDeliveryLag(b *testing.B) {
	eachStore(b, func(b *testing.B, st store.Store) {
		ctx := context.Background()
		dir := newDirectory(b, st)
		r, url := newCountingReceiver(b)
		if _, err := st.CreateWebhook(ctx, store.WebhookSpec{URL: url, Directory: dir.ID}); err != nil {
			b.Fatal(err)
		}
		d := webhook.New(webhook.Config{Store: st, AllowPrivate: true})
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- d.Run(runCtx) }()
		lags := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			r.want.Store(int64(i + 1))
			create(b, st, dir.ID, users, fmt.Sprintf(`{"userName":"lag%d"}`, i))
			committed := time.Now()
			d.Wake()
			lags = append(lags, (<-r.arrived).Sub(committed))
		}
		b.StopTimer()
		cancel()
		<-done
		slices.Sort(lags)
		b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-ms")
	})
}

// BenchmarkDeliveryLagUnderLoad has four writers create b.N users as fast
// as the store commits them while the deliverer keeps up, and measures each
// event's lag from its time (taken as its transaction began, so a little
// more than from its commit) to its arrival at a loopback receiver.
func BenchmarkDeliveryLagUnderLoad(b *testing.B) {
	eachStore(b, func(b *testing.B, st store.Store) {
		ctx := context.Background()
		dir := newDirectory(b, st)
		var mu sync.Mutex
		lags := make([]time.Duration, 0, b.N)
		all := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			var e store.Event
			body, _ := io.ReadAll(req.Body)
			if err := json.Unmarshal(body, &e); err != nil {
				b.Error(err)
			}
			lag := time.Since(e.Time)
			w.WriteHeader(http.StatusNoContent)
			mu.Lock()
			defer mu.Unlock()
			if lags = append(lags, lag); len(lags) == b.N {
				close(all)
			}
		}))
		b.Cleanup(srv.Close)
		if _, err := st.CreateWebhook(ctx, store.WebhookSpec{URL: srv.URL, Directory: dir.ID, Types: []string{store.UserCreated}}); err != nil {
			b.Fatal(err)
		}
		d := webhook.New(webhook.Config{Store: st, AllowPrivate: true})
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- d.Run(runCtx) }()
		b.ResetTimer()
		start := time.Now()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
					create(b, st, dir.ID, users, fmt.Sprintf(`{"userName":"load%d"}`, i))
					d.Wake()
				}
			})
		}
		wg.Wait()
		<-all
		elapsed := time.Since(start)
		b.StopTimer()
		cancel()
		<-done
		slices.Sort(lags)
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-ms")
	})
}

// eachStore runs bench on a new SQLite store and on a new PostgreSQL one
// (whose readers number the events: see store/postgres).
func eachStore(b *testing.B, bench func(b *testing.B, st store.Store)) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) { bench(b, open(b, location(b, kind))) })
	}
}
