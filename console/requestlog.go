package console

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
)

// RequestLoggerConfig configures a RequestLogger; its zero value works.
type RequestLoggerConfig struct {
	// Queue is how many requests wait to be written (default 8192); a
	// request that finds the queue full is dropped and counted.
	Queue int
	// Flush is how often the queue is written (default 100 ms); Batch
	// is the most requests one write holds (default 500), and a queue
	// that holds a batch is written at once.
	Batch int
	Flush time.Duration
	// BodyBytes caps each kept body after masking (default 8 KiB).
	BodyBytes int
	// Logger receives failed writes; nil discards.
	Logger *slog.Logger
}

// RequestLogger is a server.RequestLog that writes the SCIM request log
// to a store off the request path: LogRequest only queues, and Run
// writes what is queued in batches.
type RequestLogger struct {
	st      store.RequestLog
	cfg     RequestLoggerConfig
	queue   chan server.RequestRecord
	full    chan struct{} // wakes Run early when a batch is queued
	dropped atomic.Int64
	written atomic.Int64
}

// NewRequestLogger returns a RequestLogger writing to st; nothing is
// written until Run runs.
func NewRequestLogger(st store.RequestLog, cfg RequestLoggerConfig) *RequestLogger {
	if cfg.Queue <= 0 {
		cfg.Queue = 8192
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.Flush <= 0 {
		cfg.Flush = 100 * time.Millisecond
	}
	if cfg.BodyBytes <= 0 {
		cfg.BodyBytes = 8 << 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &RequestLogger{st: st, cfg: cfg, queue: make(chan server.RequestRecord, cfg.Queue), full: make(chan struct{}, 1)}
}

// LogRequest implements server.RequestLog: it queues rec, or drops it
// when the queue is full. It copies the bodies, which the server reuses.
func (l *RequestLogger) LogRequest(rec server.RequestRecord) {
	if rec.RequestBody != nil || rec.ResponseBody != nil {
		rec.RequestBody, rec.ResponseBody = clone(rec.RequestBody), clone(rec.ResponseBody)
	}
	select {
	case l.queue <- rec:
	default:
		l.dropped.Add(1)
		return
	}
	// Run sleeps between flushes rather than waiting on the queue, so
	// that a request wakes no goroutine; only a full batch wakes it early.
	if len(l.queue) >= l.cfg.Batch {
		select {
		case l.full <- struct{}{}:
		default:
		}
	}
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// Dropped returns how many requests found the queue full.
func (l *RequestLogger) Dropped() int64 { return l.dropped.Load() }

// Written returns how many requests were written to the store.
func (l *RequestLogger) Written() int64 { return l.written.Load() }

// Run writes the queued requests until ctx ends, then writes what is
// left and returns. It writes every Flush, or sooner when a batch is
// queued, what the queue holds then.
func (l *RequestLogger) Run(ctx context.Context) {
	batch := make([]store.Request, 0, l.cfg.Batch)
	write := func() {
		if len(batch) == 0 {
			return
		}
		// The batch is written even while stopping, with a time of its own.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := l.st.LogRequests(wctx, batch); err != nil {
			l.cfg.Logger.Warn("writing the request log failed; these requests are not in it", "requests", len(batch), "err", err)
		} else {
			l.written.Add(int64(len(batch)))
		}
		cancel()
		clear(batch)
		batch = batch[:0]
	}
	drain := func() {
		for {
			select {
			case rec := <-l.queue:
				batch = append(batch, l.entry(rec))
				if len(batch) >= l.cfg.Batch {
					write()
				}
				continue
			default:
			}
			write()
			return
		}
	}
	tick := time.NewTicker(l.cfg.Flush)
	defer tick.Stop()
	var reported int64
	for {
		select {
		case <-tick.C:
		case <-l.full:
		case <-ctx.Done():
			drain()
			return
		}
		drain()
		// Say when requests were dropped, once a flush at most.
		if d := l.dropped.Load(); d > reported {
			l.cfg.Logger.Warn("the request log's queue was full; requests were served but not logged",
				"dropped", d-reported, "dropped_total", d)
			reported = d
		}
	}
}

// entry is what the log keeps of rec: bodies masked and capped, texts
// that any database holds.
func (l *RequestLogger) entry(rec server.RequestRecord) store.Request {
	return store.Request{Time: rec.Time, Directory: rec.Directory, Method: rec.Method, Path: text(rec.Path), Status: rec.Status,
		Duration: rec.Duration, ScimType: text(rec.ScimType), Detail: text(rec.Detail), Token: text(rec.Token),
		Resource: text(rec.Resource), RequestID: text(rec.RequestID),
		RequestBody: l.body(rec.RequestBody), ResponseBody: l.body(rec.ResponseBody)}
}

// text is s as valid UTF-8 without NUL, which PostgreSQL's text refuses.
func text(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// body masks a body's secrets and caps its length.
func (l *RequestLogger) body(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	s := text(MaskSecrets(b))
	if len(s) > l.cfg.BodyBytes {
		s = strings.ToValidUTF8(s[:l.cfg.BodyBytes], "") + "…(cut)"
	}
	return s
}

// secretKeys are the names whose values the request log never keeps.
var secretKeys = map[string]bool{"password": true, "secret": true, "client_secret": true, "token": true,
	"access_token": true, "refresh_token": true, "assertion": true}

func isSecret(key string) bool {
	k := strings.ToLower(key)
	if i := strings.LastIndexByte(k, ':'); i >= 0 {
		k = k[i+1:] // an attribute qualified by its schema URN
	}
	return secretKeys[k]
}

// masked replaces a secret's value.
const masked = "***"

// MaskSecrets returns a body with the values of passwords and secrets
// replaced by ***: in JSON (at any depth, and the value of a PATCH
// operation whose path names a password) or in a form
// (client_secret=…). A body that is neither (a JSON cut short) is not
// kept, since it might hold a secret that cannot be found.
func MaskSecrets(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) == nil {
		out, err := json.Marshal(maskJSON(v))
		if err == nil {
			return string(out)
		}
	}
	if q, err := url.ParseQuery(string(b)); err == nil && len(q) > 0 && !strings.ContainsAny(string(b), "{}\"\n") {
		for k := range q {
			if isSecret(k) {
				q[k] = []string{masked}
			}
		}
		return q.Encode()
	}
	return "(not kept: the body is not JSON or was cut short, and might hold a secret)"
}

func maskJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if isSecret(k) {
				v[k] = masked
				continue
			}
			v[k] = maskJSON(e)
		}
		// A PATCH operation that sets a password by path.
		if p, ok := v["path"].(string); ok && strings.Contains(strings.ToLower(p), "password") {
			if _, ok := v["value"]; ok {
				v["value"] = masked
			}
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = maskJSON(e)
		}
	}
	return v
}

// PruneRequests deletes the requests older than retention every
// interval until ctx ends, in small batches, reporting each round's
// failure to onError (nil: ignored).
func PruneRequests(ctx context.Context, st store.RequestLog, retention, interval time.Duration, onError func(error)) {
	const batch = 1000
	for {
		before := time.Now().Add(-retention)
		for {
			n, err := st.PruneRequests(ctx, before, batch)
			if err != nil {
				if onError != nil && ctx.Err() == nil {
					onError(err)
				}
				break
			}
			if n < batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
