package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

// inOrder reports whether ds are the seqs from..to of a directory, each
// once, in order.
func inOrder(ds []delivery, dir string, from, to int64) error {
	if int64(len(ds)) != to-from+1 {
		return fmt.Errorf("%d deliveries, want %d (seqs %d to %d): %v", len(ds), to-from+1, from, to, seqs(ds))
	}
	for i, d := range ds {
		if d.event.Seq != from+int64(i) || d.event.Directory != dir {
			return fmt.Errorf("delivery %d is seq %d of %s, want %d of %s: %v", i, d.event.Seq, d.event.Directory, from+int64(i), dir, seqs(ds))
		}
	}
	return nil
}

// A receiver gets every event of a provisioning session, in order, each
// once, each signed.
func TestDeliversASessionInOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, loc string) {
		st := open(t, loc)
		r := newReceiver(t)
		webhookOf(t, st, r, store.WebhookSpec{}) // all directories, made before the directory
		d, _ := start(t, st, webhook.Config{})
		dir := newDirectory(t, st)
		session(t, st, dir.ID)
		d.Wake()
		last := lastSeq(t, st, dir.ID)
		got := r.waitFor("the session's events", func(got []delivery) bool {
			return len(got) > 0 && got[len(got)-1].event.Seq >= last
		})
		if err := inOrder(got, dir.ID, 1, last); err != nil {
			t.Fatal(err)
		}
		if got[0].event.Type != store.DirectoryCreated || got[len(got)-1].event.Type != store.UserDeleted {
			t.Errorf("first %s, last %s; want directory.created and user.deleted", got[0].event.Type, got[len(got)-1].event.Type)
		}
		if r.bad != 0 {
			t.Errorf("%d deliveries did not verify", r.bad)
		}
		if c := got[1].event.Context; c.Source != store.SourceSCIM || c.Token != "okta" {
			t.Errorf("a delivered event's context: %+v", c)
		}
	})
}

// A webhook of one directory with types gets only those, and starts
// after the events that were there when it was made.
func TestDeliversOnlyWhatTheWebhookWants(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	ctx := context.Background()
	acme, _ := st.CreateDirectory(ctx, "acme")
	other, _ := st.CreateDirectory(ctx, "other")
	create(t, st, acme.ID, users, `{"userName":"before"}`)
	r := newReceiver(t)
	webhookOf(t, st, r, store.WebhookSpec{Directory: "acme", Types: []string{store.UserCreated, store.UserDeleted}})
	start(t, st, webhook.Config{})
	session(t, st, other.ID)
	session(t, st, acme.ID)
	create(t, st, acme.ID, users, `{"userName":"last"}`)
	got := r.waitFor("the last user", func(got []delivery) bool {
		return len(got) > 0 && got[len(got)-1].event.Seq == lastSeq(t, st, acme.ID)
	})
	var types []string
	for _, d := range got {
		if d.event.Directory != acme.ID {
			t.Fatalf("delivered an event of another directory: %+v", d.event)
		}
		types = append(types, d.event.Type)
	}
	want := []string{store.UserCreated, store.UserCreated, store.UserCreated, store.UserCreated, store.UserDeleted, store.UserCreated}
	if !slices.Equal(types, want) {
		t.Errorf("delivered %v, want %v", types, want)
	}
}

// A receiver that fails three times gets the event on the fourth try,
// and the events after it only then, in order.
func TestRetriesInOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, loc string) {
		st := open(t, loc)
		dir, r, w := directoryWithWebhook(t, st)
		r.answer = func(e store.Event, try int, w http.ResponseWriter) bool {
			if e.Seq == 2 && try <= 3 {
				http.Error(w, "down for maintenance", http.StatusInternalServerError)
				return true
			}
			return false
		}
		for i := range 4 {
			create(t, st, dir.ID, users, fmt.Sprintf(`{"userName":"u%d"}`, i))
		}
		_, logs := start(t, st, webhook.Config{})
		got := r.waitFor("four users", func(got []delivery) bool { return len(got) == 4 })
		if err := inOrder(got, dir.ID, 2, 5); err != nil {
			t.Fatal(err)
		}
		logs.reported(dir.ID, 5)
		if n := r.triesOf(got[0].event.ID); n != 4 {
			t.Errorf("the first event was tried %d times, want 4", n)
		}
		attempts, err := st.DeliveryAttempts(context.Background(), w.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		var log []string
		for _, a := range slices.Backward(attempts) {
			log = append(log, fmt.Sprintf("%d#%d:%d", a.Seq, a.Attempt, a.Status))
		}
		want := []string{"2#1:500", "2#2:500", "2#3:500", "2#4:204", "3#1:204", "4#1:204", "5#1:204"}
		if !slices.Equal(log, want) {
			t.Errorf("attempts log %v, want %v", log, want)
		}
		if !strings.Contains(attempts[len(attempts)-1].Error, "500") || !strings.Contains(attempts[len(attempts)-1].Error, "maintenance") {
			t.Errorf("a failed attempt's error: %q", attempts[len(attempts)-1].Error)
		}
	})
}

// A 429 with Retry-After is tried again no sooner than it asks, though
// the schedule says milliseconds.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	dir, r, _ := directoryWithWebhook(t, st)
	var first atomic.Int64
	r.answer = func(e store.Event, try int, w http.ResponseWriter) bool {
		if try == 1 {
			first.Store(time.Now().UnixNano())
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return true
		}
		return false
	}
	create(t, st, dir.ID, users, `{"userName":"u"}`)
	start(t, st, webhook.Config{})
	got := r.waitFor("the retried event", func(got []delivery) bool { return len(got) == 1 })
	if waited := got[0].at.Sub(time.Unix(0, first.Load())); waited < time.Second {
		t.Errorf("tried again %s after a Retry-After of 1 s", waited)
	}
}

// A 410 disables the webhook, which keeps its place.
func TestGoneDisablesTheWebhook(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	ctx := context.Background()
	dir, r, w := directoryWithWebhook(t, st)
	var gone atomic.Bool
	gone.Store(true)
	r.answer = func(e store.Event, try int, w http.ResponseWriter) bool {
		if gone.Load() {
			http.Error(w, "no such endpoint", http.StatusGone)
			return true
		}
		return false
	}
	create(t, st, dir.ID, users, `{"userName":"u1"}`)
	d, logs := start(t, st, webhook.Config{})
	logs.waitFor("the webhook disabled", func(l logLine) bool { return strings.Contains(l.msg, "410 Gone") })
	got, err := st.Webhook(ctx, w.ID)
	if err != nil || got.Enabled {
		t.Fatalf("after a 410: %+v, %v", got, err)
	}
	if got.Disabled != "410 Gone" {
		t.Errorf("disabled because %q", got.Disabled)
	}
	gone.Store(false)
	if n := r.triesOf(""); n != 1 {
		t.Errorf("a disabled webhook was tried %d times", n)
	}
	create(t, st, dir.ID, users, `{"userName":"u2"}`)
	enabled := true
	if _, err := st.UpdateWebhook(ctx, w.ID, store.WebhookUpdate{Enabled: &enabled}); err != nil {
		t.Fatal(err)
	}
	d.Wake()
	got2 := r.waitFor("both users after enabling", func(got []delivery) bool { return len(got) == 2 })
	if err := inOrder(got2, dir.ID, 2, 3); err != nil {
		t.Error(err)
	}
}

// After its last try an event is dead-lettered, and the next goes out.
func TestDeadLetterThenTheNextEvent(t *testing.T) {
	forEachStore(t, func(t *testing.T, loc string) {
		st := open(t, loc)
		ctx := context.Background()
		dir, r, w := directoryWithWebhook(t, st)
		r.answer = func(e store.Event, try int, w http.ResponseWriter) bool {
			if e.Seq == 2 {
				http.Error(w, "cannot take this one", http.StatusBadRequest)
				return true
			}
			return false
		}
		create(t, st, dir.ID, users, `{"userName":"poison"}`)
		create(t, st, dir.ID, users, `{"userName":"next"}`)
		start(t, st, webhook.Config{Schedule: fast[:3]})
		got := r.waitFor("the next event", func(got []delivery) bool { return len(got) == 1 })
		if got[0].event.Seq != 3 {
			t.Fatalf("delivered seq %d, want 3 after the dead letter", got[0].event.Seq)
		}
		if n := r.triesOf(got[0].event.ID); n != 1 {
			t.Errorf("the next event was tried %d times", n)
		}
		dl, err := st.DeadLetters(ctx, w.ID, 10)
		if err != nil || len(dl) != 1 || dl[0].Seq != 2 || dl[0].Attempts != 3 || dl[0].Status != 400 || !strings.Contains(dl[0].Error, "cannot take") {
			t.Errorf("dead letters: %+v, %v", dl, err)
		}
	})
}

// Two servers sharing a PostgreSQL database never deliver to one webhook
// and directory at once, and together deliver each event once, in order.
func TestTwoReplicasDeliverEachEventOnce(t *testing.T) {
	t.Parallel()
	loc := location(t, "postgres")
	a, b := open(t, loc), open(t, loc)
	ctx := context.Background()

	type key struct{ hook, dir string }
	var mu sync.Mutex
	inFlight := map[key]int{}
	got := map[key][]int64{}
	seen := map[string]int{}
	arrived := make(chan struct{}, 1)
	var failures []string
	secrets := map[string]string{}
	mux := http.NewServeMux()
	mux.HandleFunc("/{hook}", func(w http.ResponseWriter, req *http.Request) {
		hook := req.PathValue("hook")
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Errorf("read: %v", err)
		}
		mu.Lock()
		secret := secrets[hook]
		mu.Unlock()
		if err := webhook.Verify([]string{secret}, req.Header, body, 0); err != nil {
			t.Errorf("verify: %v", err)
		}
		var e store.Event
		if err := e.UnmarshalJSON(body); err != nil {
			t.Errorf("decode: %v", err)
		}
		k := key{hook, e.Directory}
		mu.Lock()
		inFlight[k]++
		if inFlight[k] > 1 {
			failures = append(failures, fmt.Sprintf("%v: two deliveries at once", k))
		}
		mu.Unlock()
		time.Sleep(time.Millisecond) // a receiver that takes a moment, so that overlaps would show
		mu.Lock()
		inFlight[k]--
		got[k] = append(got[k], e.Seq)
		seen[hook+" "+e.ID]++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
		select {
		case arrived <- struct{}{}:
		default:
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	var dirs []store.Directory
	for i := range 3 {
		d, err := a.CreateDirectory(ctx, fmt.Sprintf("d%d", i))
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	var hooks []store.Webhook
	for i, spec := range []store.WebhookSpec{{}, {Directory: dirs[0].ID}} {
		spec.URL = fmt.Sprintf("%s/h%d", srv.URL, i)
		w, err := a.CreateWebhook(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		secrets[fmt.Sprintf("h%d", i)] = w.Secret
		mu.Unlock()
		hooks = append(hooks, w)
	}
	start(t, a, webhook.Config{Concurrency: 4, Batch: 7, Poll: 5 * time.Millisecond})
	start(t, b, webhook.Config{Concurrency: 4, Batch: 7, Poll: 5 * time.Millisecond})
	var wg sync.WaitGroup
	for i, d := range dirs {
		for j, st := range []store.Store{a, b} {
			wg.Go(func() {
				for k := range 25 {
					create(t, st, d.ID, users, fmt.Sprintf(`{"userName":"u%d-%d-%d"}`, i, j, k))
				}
			})
		}
	}
	wg.Wait()
	want := map[key]int64{}
	for _, d := range dirs {
		want[key{"h0", d.ID}] = lastSeq(t, a, d.ID)
	}
	want[key{"h1", dirs[0].ID}] = lastSeq(t, a, dirs[0].ID)
	deadline := time.After(2 * time.Minute)
	for {
		mu.Lock()
		done := true
		for k, last := range want {
			if s := got[k]; len(s) == 0 || s[len(s)-1] < last {
				done = false
			}
		}
		mu.Unlock()
		if done {
			break
		}
		select {
		case <-arrived:
		case <-deadline:
			mu.Lock()
			t.Fatalf("waited two minutes; got %v", got)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, f := range failures {
		t.Error(f)
	}
	for k, s := range got {
		// h0 was made after the directories: it starts after their
		// directory.created (seq 1).
		var expect []int64
		for seq := int64(2); seq <= want[k]; seq++ {
			expect = append(expect, seq)
		}
		if !slices.Equal(s, expect) {
			t.Errorf("%v got seqs %v, want 2 to %d once each in order", k, s, want[k])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
}

// A webhook to a private address is refused when connecting, whatever
// its URL passed when it was made (DNS rebinding).
func TestRefusesPrivateAddressesWhenConnecting(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	ctx := context.Background()
	dir, r, w := directoryWithWebhook(t, st)
	create(t, st, dir.ID, users, `{"userName":"u"}`)
	logs := &logWatch{t: t, notify: make(chan struct{}, 1)}
	d := webhook.New(webhook.Config{Store: st, Schedule: fast[:1], Logger: slog.New(logHandler{w: logs})})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	logs.waitFor("the dead letter", func(l logLine) bool { return strings.Contains(l.msg, "gave up") })
	cancel()
	<-done
	dl, err := st.DeadLetters(ctx, w.ID, 1)
	if err != nil || len(dl) != 1 {
		t.Fatalf("dead letters: %+v, %v", dl, err)
	}
	if !strings.Contains(dl[0].Error, "private") || dl[0].Status != 0 {
		t.Errorf("dead letter %+v, want a refused connection", dl[0])
	}
	if n := r.triesOf(""); n != 0 {
		t.Errorf("the receiver got %d deliveries", n)
	}
}

// During a rotation each delivery carries two signatures, each of which
// verifies with its secret alone.
func TestRotationSendsTwoSignatures(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	ctx := context.Background()
	dir, r, w := directoryWithWebhook(t, st)
	rotated, err := st.RotateWebhookSecret(ctx, w.ID, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r.setSecrets(rotated.Secret)
	create(t, st, dir.ID, users, `{"userName":"u"}`)
	start(t, st, webhook.Config{})
	got := r.waitFor("the event", func(got []delivery) bool { return len(got) == 1 })
	sigs := strings.Fields(got[0].headers.Get(webhook.HeaderSignature))
	if len(sigs) != 2 {
		t.Fatalf("webhook-signature %q, want two", got[0].headers.Get(webhook.HeaderSignature))
	}
	body, _ := got[0].event.MarshalJSON()
	for _, secret := range []string{w.Secret, rotated.Secret} {
		if err := webhook.Verify([]string{secret}, got[0].headers, body, 0); err != nil {
			t.Errorf("with one secret: %v", err)
		}
	}
	if err := webhook.Verify([]string{"whsec_" + strings.Repeat("A", 43) + "="}, got[0].headers, body, 0); !errors.Is(err, webhook.ErrSignature) {
		t.Errorf("with another secret: %v", err)
	}
}

// A redelivery sends a range again, freshly signed, logs it as manual
// attempts and leaves the cursor where it was.
func TestRedeliver(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	ctx := context.Background()
	dir, r, w := directoryWithWebhook(t, st)
	for i := range 4 {
		create(t, st, dir.ID, users, fmt.Sprintf(`{"userName":"u%d"}`, i))
	}
	_, logs := start(t, st, webhook.Config{})
	r.waitFor("four users", func(got []delivery) bool { return len(got) == 4 })
	logs.reported(dir.ID, 5)
	before, _ := st.WebhookCursors(ctx, w.ID)

	d := webhook.New(webhook.Config{Store: st, AllowPrivate: true})
	attempts, err := d.Redeliver(ctx, w.ID, dir.ID, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 2 || !attempts[0].Manual || attempts[0].Seq != 3 || attempts[1].Seq != 4 || attempts[1].Status != 204 {
		t.Errorf("Redeliver: %+v", attempts)
	}
	got := r.waitFor("the redeliveries", func(got []delivery) bool { return len(got) == 6 })
	if s := seqs(got[4:]); !slices.Equal(s, []int64{3, 4}) {
		t.Errorf("redelivered %v", s)
	}
	after, _ := st.WebhookCursors(ctx, w.ID)
	if before[0].Seq != after[0].Seq {
		t.Errorf("the cursor moved from %d to %d", before[0].Seq, after[0].Seq)
	}
	log, _ := st.DeliveryAttempts(ctx, w.ID, 2)
	if len(log) != 2 || !log[0].Manual || !log[1].Manual {
		t.Errorf("the log's newest attempts: %+v", log)
	}
	if _, err := d.Redeliver(ctx, w.ID, "another", 1, 1); err == nil {
		t.Error("redelivered the events of a directory the webhook is not for")
	}
}

// A redelivery of a range sends only the events of the types the webhook
// gets, in order.
func TestRedeliverSendsOnlyTheTypesTheWebhookGets(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	ctx := context.Background()
	dir := newDirectory(t, st)
	r := newReceiver(t)
	w := webhookOf(t, st, r, store.WebhookSpec{Directory: dir.ID, Types: []string{store.UserCreated}})
	session(t, st, dir.ID)
	last := lastSeq(t, st, dir.ID)
	evs, err := st.Events(ctx, store.EventQuery{Directory: dir.ID, Limit: int(last)})
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, e := range evs {
		if e.Type == store.UserCreated {
			want = append(want, e.Seq)
		}
	}
	d := webhook.New(webhook.Config{Store: st, AllowPrivate: true})
	attempts, err := d.Redeliver(ctx, w.ID, dir.ID, 1, last)
	if err != nil {
		t.Fatal(err)
	}
	var sent []int64
	for _, a := range attempts {
		sent = append(sent, a.Seq)
	}
	if len(want) == 0 || !slices.Equal(sent, want) {
		t.Errorf("redelivered seqs %v, want the user.created ones %v", sent, want)
	}
	if got := seqs(r.waitFor("the redeliveries", func(got []delivery) bool { return len(got) == len(want) })); !slices.Equal(got, want) {
		t.Errorf("the receiver got seqs %v, want %v", got, want)
	}
}

// A server killed while it held a cursor (its claim never reported) loses
// nothing: another takes the cursor over once the lease runs out, and
// delivers from where the last report left it, in order.
func TestALostLeaseIsTakenOver(t *testing.T) {
	forEachStore(t, func(t *testing.T, loc string) {
		st := open(t, loc)
		ctx := context.Background()
		dir, r, _ := directoryWithWebhook(t, st)
		for i := range 3 {
			create(t, st, dir.ID, users, fmt.Sprintf(`{"userName":"u%d"}`, i))
		}
		// The killed server's claim, for a lease of 300 ms.
		claimedAt := time.Now()
		claimed, err := st.ClaimWebhookCursors(ctx, "killed", 300*time.Millisecond, 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %+v, %v", claimed, err)
		}
		start(t, st, webhook.Config{Poll: 10 * time.Millisecond})
		got := r.waitFor("the three users", func(got []delivery) bool { return len(got) == 3 })
		if err := inOrder(got, dir.ID, 2, 4); err != nil {
			t.Fatal(err)
		}
		if waited := got[0].at.Sub(claimedAt); waited < 300*time.Millisecond {
			t.Errorf("delivered %s after another server's claim of 300 ms", waited)
		}
		// The killed server's report, had it come back, changes nothing.
		err = st.ReportWebhookCursor(ctx, claimed[0], store.CursorReport{Seq: 1})
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("a report on a lease taken over: %v, want ErrLeaseLost", err)
		}
	})
}

// A deleted directory's last events, directory.deleted the last of them,
// still go out to a webhook for all directories.
func TestDeliversADeletedDirectorysLastEvents(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	ctx := context.Background()
	r := newReceiver(t)
	webhookOf(t, st, r, store.WebhookSpec{})
	dir, _ := st.CreateDirectory(ctx, "acme")
	create(t, st, dir.ID, users, `{"userName":"u"}`)
	last := lastSeq(t, st, dir.ID)
	if err := st.DeleteDirectory(ctx, dir.ID); err != nil {
		t.Fatal(err)
	}
	start(t, st, webhook.Config{})
	got := r.waitFor("directory.deleted", func(got []delivery) bool {
		return len(got) > 0 && got[len(got)-1].event.Type == store.DirectoryDeleted
	})
	if err := inOrder(got, dir.ID, 1, last+1); err != nil {
		t.Error(err)
	}
}

// claimCounter is a store that counts the looks for due deliveries.
type claimCounter struct {
	store.Store
	claims atomic.Int64
}

func (c *claimCounter) ClaimWebhookCursors(ctx context.Context, owner string, lease time.Duration, limit int) ([]store.WebhookCursor, error) {
	c.claims.Add(1)
	return c.Store.ClaimWebhookCursors(ctx, owner, lease, limit)
}

// A server without webhooks does not look for deliveries at every
// commit; once one is made, a commit wakes the delivery again.
func TestCommitsWakeTheDeliveryOnlyWithAWebhook(t *testing.T) {
	st := &claimCounter{Store: openSQLite(t)}
	start(t, st, webhook.Config{Poll: time.Hour})
	dir := newDirectory(t, st)
	time.Sleep(150 * time.Millisecond) // past the first look
	before := st.claims.Load()
	for i := range 50 {
		create(t, st, dir.ID, users, fmt.Sprintf(`{"userName":"quiet%d"}`, i))
	}
	time.Sleep(50 * time.Millisecond)
	if n := st.claims.Load() - before; n > 2 {
		t.Errorf("50 commits without a webhook made %d looks for deliveries; want at most 2", n)
	}

	r := newReceiver(t)
	webhookOf(t, st, r, store.WebhookSpec{})
	time.Sleep(150 * time.Millisecond) // what the Deliverer knew is stale
	create(t, st, dir.ID, users, `{"userName":"heard"}`)
	last := lastSeq(t, st, dir.ID)
	r.waitFor("the event after the webhook was made", func(got []delivery) bool {
		return len(got) > 0 && got[len(got)-1].event.Seq >= last
	})
}
