package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Daemon runs a sync on a schedule, and at once when triggered, until its
// context ends; a run in progress then finishes first. It exports
// Prometheus metrics of its runs.
type Daemon struct {
	run     func(ctx context.Context) (*Plan, *Result, error)
	when    Schedule
	logger  *slog.Logger
	trigger chan struct{}

	runs        *prometheus.CounterVec
	changes     *prometheus.CounterVec
	failures    prometheus.Counter
	duration    prometheus.Histogram
	lastSuccess prometheus.Gauge
}

// NewDaemon returns a daemon that calls run when the schedule says (such
// as Every(15*time.Minute) or a Cron), registering its metrics with reg
// (nil: not registered).
func NewDaemon(run func(ctx context.Context) (*Plan, *Result, error), when Schedule, reg prometheus.Registerer, logger *slog.Logger) *Daemon {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{
		run: run, when: when, logger: logger, trigger: make(chan struct{}, 1),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_sync_runs_total",
			Help: "Sync runs by result: ok, failed (some changes failed), refused (mass changes), error (no change made)."}, []string{"result"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_sync_changes_total",
			Help: "Changes made in the target, by kind."}, []string{"kind"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "roster_sync_change_failures_total",
			Help: "Changes that failed after their retries."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "roster_sync_run_duration_seconds",
			Help: "How long a run took.", Buckets: prometheus.ExponentialBuckets(0.1, 2, 14)}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "roster_sync_last_success_timestamp_seconds",
			Help: "When the last run that changed what it planned ended (Unix time)."}),
	}
	if reg != nil {
		reg.MustRegister(d.runs, d.changes, d.failures, d.duration, d.lastSuccess)
	}
	return d
}

// Trigger asks for a run now; a trigger while one is pending is dropped.
func (d *Daemon) Trigger() {
	select {
	case d.trigger <- struct{}{}:
	default:
	}
}

// TriggerHandler is an http.Handler that triggers a run on POST.
func (d *Daemon) TriggerHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST to trigger a run", http.StatusMethodNotAllowed)
			return
		}
		d.Trigger()
		w.WriteHeader(http.StatusAccepted)
	})
}

// Serve runs at once, then when the schedule says or when triggered,
// until ctx ends. A run is never interrupted by ctx ending: it gets its own context
// and finishes.
func (d *Daemon) Serve(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-d.trigger:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}
		d.once(context.WithoutCancel(ctx))
		next := d.when.Next(time.Now())
		if next.IsZero() {
			next = time.Now().Add(100 * 365 * 24 * time.Hour) // never again but when triggered
		}
		timer.Reset(time.Until(next))
	}
}

// once makes one run and records it.
func (d *Daemon) once(ctx context.Context) {
	start := time.Now()
	p, res, err := d.run(ctx)
	d.duration.Observe(time.Since(start).Seconds())
	switch {
	case errors.Is(err, ErrRefused):
		d.runs.WithLabelValues("refused").Inc()
		d.logger.Warn("sync run refused", "reasons", p.Refused)
		return
	case errors.Is(err, ErrLocked):
		d.runs.WithLabelValues("locked").Inc()
		d.logger.Info("sync run skipped: another run holds the lock")
		return
	case err != nil && res == nil:
		d.runs.WithLabelValues("error").Inc()
		d.logger.Error("sync run failed", "err", err)
		return
	}
	c := res.Done
	for kind, n := range map[string]int{"create": c.Create, "update": c.Update, "deactivate": c.Deactivate, "reactivate": c.Reactivate,
		"delete": c.Delete, "group_create": c.GroupCreate, "group_rename": c.GroupRename, "group_retire": c.GroupRetire,
		"member_add": c.MembersAdd, "member_remove": c.MembersRemove} {
		d.changes.WithLabelValues(kind).Add(float64(n))
	}
	d.failures.Add(float64(len(res.Failed)))
	if len(res.Failed) > 0 || err != nil {
		d.runs.WithLabelValues("failed").Inc()
		d.logger.Warn("sync run finished with failures", "failed", len(res.Failed), "err", err, "seconds", time.Since(start).Seconds())
		return
	}
	d.runs.WithLabelValues("ok").Inc()
	d.lastSuccess.SetToCurrentTime()
	d.logger.Info("sync run finished", "writes", c.Writes(), "seconds", time.Since(start).Seconds())
}

// RunsMetric returns the counter of runs with a result, for tests and
// dashboards built in Go.
func (d *Daemon) RunsMetric(result string) (prometheus.Counter, error) {
	return d.runs.GetMetricWithLabelValues(result)
}
