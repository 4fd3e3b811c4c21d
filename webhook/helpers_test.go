package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/database"
	"github.com/rosterhq/roster/webhook"
)

// forEachStore runs test on SQLite and on PostgreSQL, in parallel.
func forEachStore(t *testing.T, test func(t *testing.T, loc string)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, location(t, name))
		})
	}
}

// location returns a new, empty database of a kind: a SQLite file, or a
// PostgreSQL database of the test's own (webhooks for all directories see
// every directory of a database).
func location(t testing.TB, kind string) string {
	t.Helper()
	if kind == "postgres" {
		return pgtest.New(t)
	}
	return filepath.Join(t.TempDir(), "roster.db")
}

// open opens the store at loc, closing it when the test ends.
func open(t testing.TB, loc string) store.Store {
	t.Helper()
	st, err := database.Open(context.Background(), loc)
	if err != nil {
		t.Fatalf("open %s: %v", loc, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openSQLite opens a new, empty SQLite store, for a test that needs no
// other.
func openSQLite(t testing.TB) store.Store {
	t.Helper()
	return open(t, location(t, "sqlite"))
}

// fast is a schedule of seven tries a few milliseconds apart.
var fast = []time.Duration{0, time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 4 * time.Millisecond, 5 * time.Millisecond, 6 * time.Millisecond}

// start runs a Deliverer over st until the test ends, returning it and
// its log.
func start(t *testing.T, st store.Store, cfg webhook.Config) (*webhook.Deliverer, *logWatch) {
	t.Helper()
	cfg.Store = st
	cfg.AllowPrivate = true
	if cfg.Schedule == nil {
		cfg.Schedule = fast
	}
	if cfg.Poll == 0 {
		cfg.Poll = 20 * time.Millisecond
	}
	logs := &logWatch{t: t, notify: make(chan struct{}, 1)}
	cfg.Logger = slog.New(logHandler{w: logs})
	d := webhook.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return d, logs
}

// logWatch keeps the log lines of a Deliverer, for a test to wait for.
type logWatch struct {
	t      *testing.T
	mu     sync.Mutex
	lines  []logLine
	notify chan struct{}
}

// logLine is a log record: its message and attributes.
type logLine struct {
	msg   string
	attrs map[string]any
}

// waitFor waits for a line that cond holds of, and fails the test after
// a minute.
func (w *logWatch) waitFor(what string, cond func(logLine) bool) logLine {
	w.t.Helper()
	deadline := time.After(time.Minute)
	for seen := 0; ; {
		w.mu.Lock()
		lines := w.lines[seen:]
		w.mu.Unlock()
		for _, l := range lines {
			if cond(l) {
				return l
			}
		}
		seen += len(lines)
		select {
		case <-w.notify:
		case <-deadline:
			w.t.Fatalf("waited a minute for a log line: %s", what)
		}
	}
}

// reported waits for the report that moves a cursor of dir to seq or
// past it.
func (w *logWatch) reported(dir string, seq int64) {
	w.t.Helper()
	w.waitFor(fmt.Sprintf("the report of seq %d", seq), func(l logLine) bool {
		n, _ := l.attrs["seq"].(int64)
		return l.msg == "webhooks: reported" && l.attrs["directory"] == dir && n >= seq
	})
}

type logHandler struct {
	w     *logWatch
	attrs []slog.Attr
}

func (h logHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h logHandler) Handle(_ context.Context, r slog.Record) error {
	l := logLine{msg: r.Message, attrs: map[string]any{}}
	for _, a := range h.attrs {
		l.attrs[a.Key] = a.Value.Any()
	}
	r.Attrs(func(a slog.Attr) bool {
		l.attrs[a.Key] = a.Value.Any()
		return true
	})
	h.w.mu.Lock()
	h.w.lines = append(h.w.lines, l)
	h.w.mu.Unlock()
	select {
	case h.w.notify <- struct{}{}:
	default:
	}
	return nil
}

func (h logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{w: h.w, attrs: append(slices.Clone(h.attrs), as...)}
}

func (h logHandler) WithGroup(string) slog.Handler { return h }

// delivery is what a receiver got.
type delivery struct {
	event   store.Event
	headers http.Header
	at      time.Time
}

// receiver is a loopback endpoint that verifies what it gets and answers
// what answer says (nil: 204).
type receiver struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	secrets []string
	got     []delivery // verified, in arrival order
	tries   map[string]int
	answer  func(e store.Event, try int, w http.ResponseWriter) bool // true if it answered
	arrived chan struct{}
	bad     int // deliveries that did not verify
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, tries: map[string]int{}, arrived: make(chan struct{}, 1)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setSecrets(s ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = s
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.t.Errorf("read a delivery: %v", err)
	}
	if err := webhook.Verify(r.currentSecrets(), req.Header, body, 0); err != nil {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		r.signal()
		return
	}
	var e store.Event
	if err := json.Unmarshal(body, &e); err != nil {
		r.t.Errorf("a delivery's body is no event: %s", body)
	}
	if id := req.Header.Get(webhook.HeaderID); id != e.ID {
		r.t.Errorf("webhook-id %q, event id %q", id, e.ID)
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		r.t.Errorf("Content-Type %q", ct)
	}
	r.mu.Lock()
	r.tries[e.ID]++
	try := r.tries[e.ID]
	answer := r.answer
	r.mu.Unlock()
	if answer == nil || !answer(e, try, w) {
		r.mu.Lock()
		r.got = append(r.got, delivery{event: e, headers: req.Header.Clone(), at: time.Now()})
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
	r.signal()
}

// triesOf returns how many deliveries of the event id the receiver got,
// or of all events for "".
func (r *receiver) triesOf(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id != "" {
		return r.tries[id]
	}
	n := 0
	for _, c := range r.tries {
		n += c
	}
	return n
}

func (r *receiver) currentSecrets() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.secrets
}

func (r *receiver) signal() {
	select {
	case r.arrived <- struct{}{}:
	default:
	}
}

// waitFor waits until cond holds of the receiver, checking at each
// delivery, and fails the test after a minute.
func (r *receiver) waitFor(what string, cond func(got []delivery) bool) []delivery {
	r.t.Helper()
	deadline := time.After(time.Minute)
	for {
		r.mu.Lock()
		got := slices.Clone(r.got)
		r.mu.Unlock()
		if cond(got) {
			return got
		}
		select {
		case <-r.arrived:
		case <-deadline:
			r.t.Fatalf("waited a minute for %s; got %d deliveries: %v", what, len(got), seqs(got))
		}
	}
}

// seqs returns the seqs of deliveries.
func seqs(ds []delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.event.Seq
	}
	return out
}

var (
	reg    = schema.NewRegistry()
	users  = reg.ResourceType("User")
	groups = reg.ResourceType("Group")
)

// scim is the context of changes made by a SCIM request.
func scimCtx() context.Context {
	return store.WithEventContext(context.Background(), store.EventContext{Source: store.SourceSCIM, RequestID: "req", Token: "okta"})
}

func create(t testing.TB, st store.Store, dir string, rt *schema.ResourceType, body string) *resource.Resource {
	t.Helper()
	r, err := resource.Decode(rt, []byte(body), resource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := st.Create(scimCtx(), dir, r)
	if err != nil {
		t.Fatalf("create %s: %v", body, err)
	}
	return out
}

func patchOps(t testing.TB, st store.Store, dir string, rt *schema.ResourceType, id string, ops ...string) {
	t.Helper()
	body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(ops, ",") + `]}`
	req, err := patch.Parse(rt, []byte(body), resource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Patch(scimCtx(), dir, rt, id, req, "", false); err != nil {
		t.Fatalf("patch %s: %v", body, err)
	}
}

// session provisions a directory as Okta or Entra would: users, a group
// and its members, updates, a deactivation, a removal and a deletion.
func session(t *testing.T, st store.Store, dir string) {
	t.Helper()
	var ids []string
	for i := range 4 {
		ids = append(ids, create(t, st, dir, users, fmt.Sprintf(`{"userName":"user%d@example.com","active":true,"title":"Engineer"}`, i)).ID())
	}
	g := create(t, st, dir, groups, fmt.Sprintf(`{"displayName":"Engineering","members":[{"value":%q},{"value":%q}]}`, ids[0], ids[1]))
	patchOps(t, st, dir, users, ids[2], `{"op":"replace","path":"title","value":"CTO"}`)
	patchOps(t, st, dir, groups, g.ID(), fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]}`, ids[2]))
	patchOps(t, st, dir, users, ids[1], `{"op":"replace","path":"active","value":false}`)
	patchOps(t, st, dir, groups, g.ID(), fmt.Sprintf(`{"op":"remove","path":"members[value eq \"%s\"]"}`, ids[1]))
	if err := st.Delete(scimCtx(), dir, users, ids[3], ""); err != nil {
		t.Fatal(err)
	}
}

// lastSeq returns a directory's last event seq.
func lastSeq(t *testing.T, st store.Store, dir string) int64 {
	t.Helper()
	n, err := st.LastEventSeq(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// webhookOf makes a webhook and has the receiver verify with its secret.
func webhookOf(t *testing.T, st store.Store, r *receiver, spec store.WebhookSpec) store.Webhook {
	t.Helper()
	if spec.URL == "" {
		spec.URL = r.srv.URL + "/hooks"
	}
	w, err := st.CreateWebhook(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	r.setSecrets(w.Secret)
	return w
}

// newDirectory makes directory acme in st.
func newDirectory(t testing.TB, st store.Store) store.Directory {
	t.Helper()
	dir, err := st.CreateDirectory(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// directoryWithWebhook makes directory acme in st, a receiver, and a
// webhook of acme to the receiver, which verifies with its secret.
func directoryWithWebhook(t *testing.T, st store.Store) (store.Directory, *receiver, store.Webhook) {
	t.Helper()
	dir := newDirectory(t, st)
	r := newReceiver(t)
	return dir, r, webhookOf(t, st, r, store.WebhookSpec{Directory: dir.ID})
}
