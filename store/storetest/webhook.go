package storetest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/store"
)

// cursorOf returns a webhook's cursor of a directory.
func cursorOf(t *testing.T, st store.Store, webhook, dir string) (store.WebhookCursor, bool) {
	t.Helper()
	cs, err := st.WebhookCursors(context.Background(), webhook)
	if err != nil {
		t.Fatalf("WebhookCursors: %v", err)
	}
	for _, c := range cs {
		if c.Directory == dir {
			return c, true
		}
	}
	return store.WebhookCursor{}, false
}

// claimOf claims the cursors due and returns those of webhook.
func claimOf(t *testing.T, st store.Store, owner, webhook string) []store.WebhookCursor {
	t.Helper()
	cs, err := st.ClaimWebhookCursors(context.Background(), owner, time.Minute, 100)
	if err != nil {
		t.Fatalf("ClaimWebhookCursors: %v", err)
	}
	var out []store.WebhookCursor
	for _, c := range cs {
		if c.Webhook == webhook {
			out = append(out, c)
		}
	}
	return out
}

func (s *suite) testWebhooks(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)

	w, err := st.CreateWebhook(ctx, store.WebhookSpec{URL: "https://app.example.com/hooks", Directory: "acme", Types: []string{store.UserDeleted, store.UserCreated, store.UserCreated}})
	if err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(w.Secret, "whsec_"))
	if !strings.HasPrefix(w.Secret, "whsec_") || err != nil || len(key) < 24 || len(key) > 32 {
		t.Errorf("secret %q: want whsec_ and 24 to 32 bytes in base64 (%v)", w.Secret, err)
	}
	if w.ID == "" || w.Directory != dir || !w.Enabled || !slices.Equal(w.Types, []string{store.UserCreated, store.UserDeleted}) {
		t.Errorf("created %+v, want the directory's id, enabled, its types sorted once each", w)
	}
	got, err := st.Webhook(ctx, w.ID)
	if err != nil || got.Secret != w.Secret || got.URL != w.URL || got.Directory != dir || !slices.Equal(got.Types, w.Types) {
		t.Errorf("Webhook: %+v, %v; want what CreateWebhook returned, with the secret readable to sign", got, err)
	}
	all, err := st.CreateWebhook(ctx, store.WebhookSpec{URL: "https://app.example.com/all"})
	if err != nil {
		t.Fatal(err)
	}
	if all.Directory != "" || all.Types != nil || all.Secret == w.Secret {
		t.Errorf("a webhook for everything: %+v", all)
	}
	list, err := st.Webhooks(ctx)
	if err != nil || len(list) != 2 || list[0].ID != w.ID || list[1].ID != all.ID {
		t.Errorf("Webhooks: %v, %v", list, err)
	}

	url, enabled, types := "https://app.example.com/v2", false, []string{}
	u, err := st.UpdateWebhook(ctx, w.ID, store.WebhookUpdate{URL: &url, Enabled: &enabled, Types: &types})
	if err != nil || u.URL != url || u.Enabled || u.Types != nil || u.Secret != w.Secret {
		t.Errorf("UpdateWebhook: %+v, %v", u, err)
	}

	r, err := st.RotateWebhookSecret(ctx, w.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if r.Secret == w.Secret || r.PreviousSecret != w.Secret || !slices.Equal(r.Secrets(time.Now()), []string{r.Secret, w.Secret}) {
		t.Errorf("rotated: secret %q previous %q, want a new one and the old one beside it", r.Secret, r.PreviousSecret)
	}
	if got := r.Secrets(time.Now().Add(2 * time.Hour)); !slices.Equal(got, []string{r.Secret}) {
		t.Errorf("after the overlap the secrets are %v, want the new one only", got)
	}

	for what, err := range map[string]error{
		"an unknown type": func() error {
			_, err := st.CreateWebhook(ctx, store.WebhookSpec{URL: "https://x.example", Types: []string{"user.exploded"}})
			return err
		}(),
		"an unknown type in an update": func() error {
			bad := []string{"nope"}
			_, err := st.UpdateWebhook(ctx, w.ID, store.WebhookUpdate{Types: &bad})
			return err
		}(),
	} {
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want a bad request", what, err)
		}
	}
	_, err = st.CreateWebhook(ctx, store.WebhookSpec{URL: "https://x.example", Directory: "nope"})
	wantErr(t, "a webhook of an unknown directory", err, store.ErrNotFound)

	if err := st.DeleteWebhook(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	_, err = st.Webhook(ctx, w.ID)
	wantErr(t, "a deleted webhook", err, store.ErrNotFound)
	wantErr(t, "deleting it again", st.DeleteWebhook(ctx, w.ID), store.ErrNotFound)
	_, err = st.RotateWebhookSecret(ctx, w.ID, time.Hour)
	wantErr(t, "rotating a deleted webhook", err, store.ErrNotFound)
	_, err = st.UpdateWebhook(ctx, w.ID, store.WebhookUpdate{URL: &url})
	wantErr(t, "updating a deleted webhook", err, store.ErrNotFound)
	if cs, err := st.WebhookCursors(ctx, w.ID); err != nil || len(cs) != 0 {
		t.Errorf("a deleted webhook's cursors: %v, %v", cs, err)
	}
}

// A webhook delivers what happens from its creation on; a directory made
// after a webhook for all directories, from its first event.
func (s *suite) testWebhookCursorsStart(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	s.create(t, st, dir, s.users, `{"userName":"before"}`)
	last, err := st.LastEventSeq(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	all, err := st.CreateWebhook(ctx, store.WebhookSpec{URL: "https://app.example.com/all"})
	if err != nil {
		t.Fatal(err)
	}
	one, err := st.CreateWebhook(ctx, store.WebhookSpec{URL: "https://app.example.com/one", Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []store.Webhook{all, one} {
		if c, ok := cursorOf(t, st, w.ID, dir); !ok || c.Seq != last || c.Attempts != 0 {
			t.Errorf("%s: cursor %+v (%v), want one at the directory's last event %d", w.URL, c, ok, last)
		}
	}
	if cs := claimOf(t, st, "w1", all.ID); len(cs) != 0 {
		t.Errorf("with nothing new, claimed %+v", cs)
	}

	later, err := st.CreateDirectory(ctx, "later")
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := cursorOf(t, st, all.ID, later.ID); !ok || c.Seq != 0 {
		t.Errorf("a directory made after a webhook for all: cursor %+v (%v), want one at 0", c, ok)
	}
	if _, ok := cursorOf(t, st, one.ID, later.ID); ok {
		t.Errorf("a webhook of one directory has a cursor of another")
	}
	cs := claimOf(t, st, "w1", all.ID)
	if len(cs) != 1 || cs[0].Directory != later.ID || cs[0].Lease == "" {
		t.Fatalf("claimed %+v, want the new directory's cursor, leased", cs)
	}
	evs := events(t, st, later.ID, cs[0].Seq)
	if len(evs) != 1 || evs[0].Type != store.DirectoryCreated {
		t.Errorf("what the new directory's cursor delivers first: %v", typesOf(evs))
	}
}

// A claimed cursor is leased to its claim alone until it reports; a
// report moves it on, logs its attempts, dead letters and a disable.
func (s *suite) testWebhookDeliveryState(t *testing.T) {
	ctx := context.Background()
	st, dir := s.setup(t)
	w, err := st.CreateWebhook(ctx, store.WebhookSpec{URL: "https://app.example.com/hooks", Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	s.create(t, st, dir, s.users, `{"userName":"u1"}`)
	s.create(t, st, dir, s.users, `{"userName":"u2"}`)
	evs := events(t, st, dir, 1)
	if len(evs) != 2 {
		t.Fatalf("events: %v", typesOf(evs))
	}

	cs := claimOf(t, st, "w1", w.ID)
	if len(cs) != 1 || cs[0].Seq != 1 {
		t.Fatalf("claimed %+v, want the cursor at 1", cs)
	}
	c := cs[0]
	if again := claimOf(t, st, "w2", w.ID); len(again) != 0 {
		t.Fatalf("a second claim took a leased cursor: %+v", again)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	ok := store.DeliveryAttempt{Webhook: w.ID, Directory: dir, Event: evs[0].ID, Seq: evs[0].Seq, Attempt: 1, Time: now, Status: 200, Duration: 1500 * time.Microsecond}
	if err := st.ReportWebhookCursor(ctx, c, store.CursorReport{Attempts: []store.DeliveryAttempt{ok}, Seq: evs[0].Seq, Keep: time.Minute}); err != nil {
		t.Fatalf("report keeping the lease: %v", err)
	}
	if again := claimOf(t, st, "w2", w.ID); len(again) != 0 {
		t.Fatalf("a kept lease was claimed: %+v", again)
	}
	// The next event fails; it is due again at once, to another claim
	// that sees the tries so far.
	fail := store.DeliveryAttempt{Webhook: w.ID, Directory: dir, Event: evs[1].ID, Seq: evs[1].Seq, Attempt: 1, Time: now, Status: 500, Error: "500 Internal Server Error"}
	if err := st.ReportWebhookCursor(ctx, c, store.CursorReport{Attempts: []store.DeliveryAttempt{fail}, Seq: evs[0].Seq, Tries: 1, NextAttempt: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "a report after releasing", st.ReportWebhookCursor(ctx, c, store.CursorReport{Seq: evs[1].Seq}), store.ErrLeaseLost)
	if got, _ := cursorOf(t, st, w.ID, dir); got.Seq != evs[0].Seq || got.Attempts != 1 || got.Lease != "" {
		t.Errorf("cursor after a failure: %+v", got)
	}
	cs = claimOf(t, st, "w2", w.ID)
	if len(cs) != 1 || cs[0].Seq != evs[0].Seq || cs[0].Attempts != 1 {
		t.Fatalf("claimed %+v, want the cursor at %d with 1 try", cs, evs[0].Seq)
	}

	// A 410 dead-letters the event and disables the webhook.
	dead := store.DeadLetter{Webhook: w.ID, Directory: dir, Event: evs[1].ID, Seq: evs[1].Seq, Time: now, Status: 410, Error: "410 Gone", Attempts: 2}
	fail.Attempt, fail.Status, fail.Error = 2, 410, "410 Gone"
	if err := st.ReportWebhookCursor(ctx, cs[0], store.CursorReport{Attempts: []store.DeliveryAttempt{fail}, Seq: evs[1].Seq,
		DeadLetters: []store.DeadLetter{dead}, Disable: "410 Gone"}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Webhook(ctx, w.ID)
	if err != nil || got.Enabled || got.Disabled != "410 Gone" {
		t.Errorf("after a disable: %+v, %v", got, err)
	}
	s.create(t, st, dir, s.users, `{"userName":"u3"}`)
	if again := claimOf(t, st, "w3", w.ID); len(again) != 0 {
		t.Errorf("a disabled webhook's cursor was claimed: %+v", again)
	}
	enabled := true
	if got, err := st.UpdateWebhook(ctx, w.ID, store.WebhookUpdate{Enabled: &enabled}); err != nil || !got.Enabled || got.Disabled != "" {
		t.Errorf("enabled again: %+v, %v", got, err)
	}
	cs = claimOf(t, st, "w3", w.ID)
	if len(cs) != 1 || cs[0].Seq != evs[1].Seq || cs[0].Attempts != 0 {
		t.Fatalf("enabled again, claimed %+v, want the cursor after the dead letter", cs)
	}
	// A cursor whose next attempt is an hour away is not due.
	if err := st.ReportWebhookCursor(ctx, cs[0], store.CursorReport{Seq: evs[1].Seq, Tries: 1, NextAttempt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if again := claimOf(t, st, "w4", w.ID); len(again) != 0 {
		t.Errorf("a cursor not due was claimed: %+v", again)
	}

	attempts, err := st.DeliveryAttempts(ctx, w.ID, 10)
	if err != nil || len(attempts) != 3 {
		t.Fatalf("DeliveryAttempts: %+v, %v", attempts, err)
	}
	if a := attempts[2]; a.Status != 200 || a.Event != evs[0].ID || a.Duration != 1500*time.Microsecond || !a.Time.Equal(now) || a.Manual {
		t.Errorf("the first attempt read back: %+v, want %+v", a, ok)
	}
	if a := attempts[0]; a.Status != 410 || a.Attempt != 2 || a.Error != "410 Gone" {
		t.Errorf("the last attempt read back: %+v", a)
	}
	dl, err := st.DeadLetters(ctx, w.ID, 10)
	if err != nil || len(dl) != 1 || dl[0].Event != evs[1].ID || dl[0].Attempts != 2 || dl[0].Status != 410 || dl[0].Error != "410 Gone" {
		t.Errorf("DeadLetters: %+v, %v", dl, err)
	}
	if err := st.LogDeliveryAttempts(ctx, []store.DeliveryAttempt{{Webhook: w.ID, Directory: dir, Event: evs[0].ID, Seq: evs[0].Seq, Attempt: 1, Time: now, Status: 204, Manual: true}}); err != nil {
		t.Fatal(err)
	}
	if attempts, _ := st.DeliveryAttempts(ctx, w.ID, 1); len(attempts) != 1 || !attempts[0].Manual {
		t.Errorf("a manual redelivery read back: %+v", attempts)
	}
	if n, err := st.PruneDeliveryAttempts(ctx, time.Now().Add(time.Hour), 100); err != nil || n != 4 {
		t.Errorf("PruneDeliveryAttempts: %d, %v, want the 4 attempts", n, err)
	}
}

// Claims that run at once, as on servers sharing a database, never take
// the same cursor.
func (s *suite) testWebhookClaimsAreExclusive(t *testing.T) {
	ctx := context.Background()
	st := s.open(t)
	var dirs []string
	for i := range 6 {
		d, err := st.CreateDirectory(ctx, fmt.Sprintf("d%d", i))
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d.ID)
	}
	var hooks []string
	for i := range 3 {
		w, err := st.CreateWebhook(ctx, store.WebhookSpec{URL: fmt.Sprintf("https://app.example.com/%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		hooks = append(hooks, w.ID)
	}
	for _, d := range dirs {
		s.create(t, st, d, s.users, `{"userName":"u"}`)
	}
	var mu sync.Mutex
	claimed := map[string]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			owner := fmt.Sprintf("worker-%d", i)
			for range 3 {
				cs, err := st.ClaimWebhookCursors(ctx, owner, time.Minute, 2)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, c := range cs {
					k := c.Webhook + " " + c.Directory
					if other, ok := claimed[k]; ok {
						errs <- fmt.Errorf("cursor %s claimed by %s and %s", k, other, owner)
					}
					claimed[k] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(claimed) != len(dirs)*len(hooks) {
		t.Errorf("claimed %d cursors, want all %d", len(claimed), len(dirs)*len(hooks))
	}
}
