package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/retryafter"
	"github.com/rosterhq/roster/store"
)

// DefaultSchedule is when a delivery is tried: at once, then after each
// failure 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h later (each with
// jitter); after the last try the event is dead-lettered.
var DefaultSchedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Store is what a Deliverer needs of the store: the events and the
// webhooks' delivery state.
type Store interface {
	store.Events
	store.Webhooks
}

// Config configures a Deliverer. Only Store is required.
type Config struct {
	Store Store
	// AllowPrivate lets deliveries connect to loopback, link-local and
	// private addresses (see CheckURL); tests and local receivers need it.
	AllowPrivate bool
	// Schedule is the delay before each try of an event, the first
	// usually 0; DefaultSchedule when nil. Its length is the number of
	// tries before an event is dead-lettered.
	Schedule []time.Duration
	// Jitter spreads each delay by up to this fraction either way
	// (default 0.2; negative for none), so that endpoints that failed
	// together are not retried together.
	Jitter float64
	// Timeout bounds each POST (default 15 s).
	Timeout time.Duration
	// Poll is how often the worker looks for due deliveries when nobody
	// calls Wake (default 1 s).
	Poll time.Duration
	// Lease is how long a claimed cursor stays the worker's without a
	// report (default 1 min); it must exceed Timeout.
	Lease time.Duration
	// Concurrency is how many cursors (webhook and directory) are
	// delivered at once (default 8); each delivers in order.
	Concurrency int
	// Batch is how many events are read at once (default 100).
	Batch int
	// Retention is how long the log of attempts is kept (default 30
	// days, as events); Run prunes it every PruneEvery (default 10 min).
	Retention, PruneEvery time.Duration
	// Logger logs failures and disabled endpoints (default: none).
	Logger *slog.Logger
	// Client sends the deliveries; the default refuses to connect to
	// addresses that are not public unless AllowPrivate. A Client given
	// here must do its own checking.
	Client *http.Client
}

// Deliverer delivers events to webhooks: Run claims the cursors that are
// due and delivers their events in order, one at a time per webhook and
// directory, until each is acknowledged (a 2xx) or dead-lettered.
type Deliverer struct {
	cfg   Config
	owner string
	wake  chan struct{}
}

// New returns a Deliverer configured by cfg.
func New(cfg Config) *Deliverer {
	if cfg.Schedule == nil {
		cfg.Schedule = DefaultSchedule
	}
	if cfg.Jitter == 0 {
		cfg.Jitter = 0.2
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = max(time.Minute, 4*cfg.Timeout)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 30 * 24 * time.Hour
	}
	if cfg.PruneEvery <= 0 {
		cfg.PruneEvery = 10 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Client == nil {
		cfg.Client = NewClient(cfg.AllowPrivate)
	}
	d := &Deliverer{cfg: cfg, wake: make(chan struct{}, 1)}
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	d.owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	return d
}

// NewClient returns the HTTP client deliveries use: it follows no
// redirects (a 3xx is a failure), uses no proxy, and unless allowPrivate
// refuses to connect to an address that is not public, checked on the
// address it connects to, so that a name that resolves elsewhere later
// (DNS rebinding) gets no further.
func NewClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: dialControl(allowPrivate)}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Wake makes Run look for due deliveries now, rather than at its next
// poll. Run wakes by itself when its store commits events
// (store.Events.EventsWritten); Wake is for what it cannot see, such as a
// webhook enabled again. It never blocks.
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the POSTs in flight to be
// answered (within Timeout) and recorded, and the cursors released. It
// returns nil then; a store that fails is logged and tried again at the
// next poll.
func (d *Deliverer) Run(ctx context.Context) error {
	tick := time.NewTicker(d.cfg.Poll)
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { d.prune(ctx) })
	done := make(chan struct{}, d.cfg.Concurrency)
	running := 0
	// A commit wakes the loop only while some webhook is enabled (as
	// the last look found, at most activeCheck ago), so that a server
	// with no webhooks does not look for deliveries at every commit.
	claim, active, checked := true, false, time.Time{}
	for {
		// Asked for before claiming, so that a commit during the claim
		// still wakes the loop.
		written := d.cfg.Store.EventsWritten()
		if free := d.cfg.Concurrency - running; claim && free > 0 && ctx.Err() == nil {
			cs, err := d.cfg.Store.ClaimWebhookCursors(ctx, d.owner, d.cfg.Lease, free)
			if err != nil && ctx.Err() == nil {
				d.cfg.Logger.Error("webhooks: claim deliveries", "error", err)
			}
			for _, c := range cs {
				running++
				wg.Go(func() {
					d.deliver(ctx, c)
					done <- struct{}{}
				})
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-written:
			if time.Since(checked) >= activeCheck {
				active, checked = d.anyEnabled(ctx), time.Now()
			}
			claim = active
		case <-d.wake:
			claim = true
		case <-tick.C:
			claim = true
		case <-done:
			// A cursor released: look again at once, for what was
			// committed while it held it.
			running--
			claim = true
		}
	}
}

// activeCheck is how long Run trusts what it found out about whether any
// webhook is enabled: a webhook created on another replica, or through
// another store handle, is delivered to at once after that long (and
// within Poll in any case).
const activeCheck = 100 * time.Millisecond

// anyEnabled reports whether the store has an enabled webhook; true when
// it cannot tell.
func (d *Deliverer) anyEnabled(ctx context.Context) bool {
	ws, err := d.cfg.Store.Webhooks(ctx)
	if err != nil {
		return true
	}
	for _, w := range ws {
		if w.Enabled {
			return true
		}
	}
	return false
}

// pruneBatch is the most attempts one prune transaction deletes.
const pruneBatch = 1000

// prune deletes the attempts older than the retention every PruneEvery
// until ctx ends.
func (d *Deliverer) prune(ctx context.Context) {
	t := time.NewTicker(d.cfg.PruneEvery)
	defer t.Stop()
	for {
		for {
			n, err := d.cfg.Store.PruneDeliveryAttempts(ctx, time.Now().Add(-d.cfg.Retention), pruneBatch)
			if err != nil && ctx.Err() == nil {
				d.cfg.Logger.Warn("webhooks: pruning the delivery log failed; will retry", "error", err)
			}
			if err != nil || n < pruneBatch {
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

// outcome is what one POST got.
type outcome struct {
	status     int
	err        string
	retryAfter time.Duration // from a 429 or 503, -1 without
	took       time.Duration
	cancelled  bool // ctx ended: no attempt to count
}

func (o outcome) ok() bool { return o.status >= 200 && o.status < 300 }

// attempt is the log entry of the POST that got o: try number n of event
// e of directory dir to webhook id.
func (o outcome) attempt(id, dir string, e store.Event, n int) store.DeliveryAttempt {
	return store.DeliveryAttempt{Webhook: id, Directory: dir, Event: e.ID, Seq: e.Seq, Attempt: n,
		Time: time.Now(), Status: o.status, Duration: o.took, Error: o.err}
}

// deliver delivers the events of a claimed cursor in order until it has
// none left, an event fails (it is retried later) or the webhook is
// disabled, reporting every reportEvery while it goes on, after a dead
// letter, and when it stops (releasing the cursor).
func (d *Deliverer) deliver(ctx context.Context, c store.WebhookCursor) {
	log := d.cfg.Logger.With("webhook", c.Webhook, "directory", c.Directory)
	seq, tries := c.Seq, c.Attempts
	var rep store.CursorReport
	lastReport := time.Now()
	// report reports what is pending; keep says whether to go on.
	report := func(keep bool, next time.Time, disable string) bool {
		rep.Seq, rep.Tries, rep.NextAttempt, rep.Disable = seq, tries, next, disable
		rep.Keep = 0
		if keep {
			rep.Keep = d.cfg.Lease
		}
		// Report even when stopping: what was delivered is recorded, and
		// the cursor released, so that another server takes it over at
		// once.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err := d.cfg.Store.ReportWebhookCursor(rctx, c, rep)
		rep, lastReport = store.CursorReport{}, time.Now()
		if err != nil {
			if !errors.Is(err, store.ErrLeaseLost) {
				log.Error("webhooks: report deliveries", "error", err)
			}
			return false
		}
		log.Debug("webhooks: reported", "seq", seq, "tries", tries, "next", next)
		return keep
	}
	release := func(next time.Time) { report(false, next, "") }
	// While events keep coming, report at most every reportEvery: each
	// report is a write, which on SQLite waits for the one writer with
	// the changes whose events these are. Running out of events releases
	// the cursor, reporting. reportIfDue says whether to go on.
	reportIfDue := func() bool { return time.Since(lastReport) < reportEvery || report(true, time.Time{}, "") }

	for {
		w, err := d.cfg.Store.Webhook(ctx, c.Webhook)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, store.ErrNotFound) {
				// Such as a secret this server's secret key does not open:
				// try again, but not at every poll.
				log.Error("webhooks: read webhook", "error", err)
			}
			release(time.Now().Add(10 * d.cfg.Poll))
			return
		}
		if !w.Enabled {
			release(time.Time{})
			return
		}
		evs, err := d.cfg.Store.Events(ctx, store.EventQuery{Directory: c.Directory, After: seq, Limit: d.cfg.Batch})
		if err != nil {
			if ctx.Err() == nil {
				log.Error("webhooks: read events", "error", err)
			}
			release(time.Now().Add(d.cfg.Poll))
			return
		}
		if len(evs) == 0 {
			release(time.Time{})
			return
		}
		for _, e := range evs {
			if !w.Wants(e.Type) {
				seq = e.Seq
				continue
			}
			if ctx.Err() != nil {
				release(time.Time{})
				return
			}
			// A POST under way when Run is stopped is finished (within
			// Timeout) and recorded, so that a stop sends nothing twice.
			o := d.post(context.WithoutCancel(ctx), w, e)
			tries++
			rep.Attempts = append(rep.Attempts, o.attempt(w.ID, c.Directory, e, tries))
			switch {
			case o.ok():
				seq, tries = e.Seq, 0
			case o.status == http.StatusGone:
				// The receiver says the endpoint is gone: stop, keeping the
				// event for when it is enabled again.
				tries = 0
				report(false, time.Time{}, "410 Gone")
				log.Warn("webhooks: the endpoint answered 410 Gone; disabled it", "url", w.URL)
				return
			case tries >= len(d.cfg.Schedule):
				rep.DeadLetters = append(rep.DeadLetters, store.DeadLetter{Webhook: w.ID, Directory: c.Directory, Event: e.ID, Seq: e.Seq,
					Time: time.Now(), Status: o.status, Error: o.err, Attempts: tries})
				seq, tries = e.Seq, 0
				// Record the dead letter before the next event goes out.
				ok := report(true, time.Time{}, "")
				log.Warn("webhooks: gave up on an event after its last try", "event", e.ID, "seq", e.Seq, "tries", len(d.cfg.Schedule), "error", o.err)
				if !ok {
					return
				}
				continue
			default:
				release(time.Now().Add(d.delay(tries, o.retryAfter)))
				return
			}
			if !reportIfDue() {
				return
			}
		}
		if !reportIfDue() {
			return
		}
	}
}

// reportEvery is how often a worker holding a cursor reports what it
// delivered while it goes on: what a crash makes it send again.
const reportEvery = 250 * time.Millisecond

// delay returns how long to wait before the try after tries failed: the
// Retry-After of the last answer if it had one, else the schedule's, with
// jitter.
func (d *Deliverer) delay(tries int, retryAfter time.Duration) time.Duration {
	if retryAfter >= 0 {
		return retryAfter
	}
	next := d.cfg.Schedule[min(tries, len(d.cfg.Schedule)-1)]
	if d.cfg.Jitter > 0 {
		next = time.Duration(float64(next) * (1 - d.cfg.Jitter + 2*d.cfg.Jitter*mrand.Float64()))
	}
	return next
}

// maxRetryAfter bounds the Retry-After a receiver can ask for.
const maxRetryAfter = 24 * time.Hour

// post sends one event to w, freshly signed.
func (d *Deliverer) post(ctx context.Context, w store.Webhook, e store.Event) outcome {
	// The event's own encoding, as the events API carries it: json.Marshal
	// would only compact it again.
	body, err := e.MarshalJSON()
	if err != nil {
		return outcome{err: fmt.Sprintf("encode the event: %v", err), retryAfter: -1}
	}
	now := time.Now()
	sig, err := SignatureHeader(w.Secrets(now), e.ID, now, body)
	if err != nil {
		return outcome{err: err.Error(), retryAfter: -1}
	}
	rctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return outcome{err: err.Error(), retryAfter: -1}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Roster-Webhooks/1")
	req.Header.Set(HeaderID, e.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	start := time.Now()
	resp, err := d.cfg.Client.Do(req)
	o := outcome{retryAfter: -1}
	if err != nil {
		o.took = time.Since(start)
		if ctx.Err() != nil {
			return outcome{cancelled: true}
		}
		o.err = err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			o.err = fmt.Sprintf("no answer within %s", d.cfg.Timeout)
		}
		return o
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so that the connection is reused
	resp.Body.Close()
	o.took, o.status = time.Since(start), resp.StatusCode
	if !o.ok() {
		o.err = resp.Status
		if s := strings.TrimSpace(string(snippet)); s != "" {
			o.err += ": " + strings.ToValidUTF8(s, "?")
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			o.retryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
	}
	return o
}

// retryAfter reads a Retry-After header as a delay, -1 if there is none
// it can read.
func retryAfter(h string, now time.Time) time.Duration {
	if d, ok := retryafter.Parse(h, now, maxRetryAfter); ok {
		return d
	}
	return -1
}

// Redeliver sends again, freshly signed, the events of directory dir (an
// id) with seqs from to to that webhook id receives. These are extra
// deliveries: each is tried once and logged as a manual attempt, and the
// webhook's cursor does not move. It returns the attempts.
func (d *Deliverer) Redeliver(ctx context.Context, id, dir string, from, to int64) ([]store.DeliveryAttempt, error) {
	w, err := d.cfg.Store.Webhook(ctx, id)
	if err != nil {
		return nil, err
	}
	if w.Directory != "" && w.Directory != dir {
		return nil, fmt.Errorf("webhook: webhook %s receives the events of directory %s only, not of %s", id, w.Directory, dir)
	}
	if from < 1 || to < from {
		return nil, fmt.Errorf("webhook: redeliver seqs %d to %d: want 1 ≤ from ≤ to", from, to)
	}
	var out []store.DeliveryAttempt
	for after := from - 1; after < to; {
		// Only the types the webhook gets: the store skips the others,
		// which a redelivery, moving no cursor, has no need to read; and
		// none past to, which it would otherwise look through to the
		// newest event for the types it wants.
		evs, err := d.cfg.Store.Events(ctx, store.EventQuery{Directory: dir, After: after, Types: w.Types, Through: to,
			Limit: int(min(int64(d.cfg.Batch), to-after))})
		if err != nil {
			return out, err
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			after = e.Seq
			o := d.post(ctx, w, e)
			if o.cancelled {
				return out, ctx.Err()
			}
			a := o.attempt(w.ID, dir, e, 1)
			a.Manual = true
			out = append(out, a)
		}
	}
	if err := d.cfg.Store.LogDeliveryAttempts(ctx, out); err != nil {
		return out, err
	}
	return out, nil
}
