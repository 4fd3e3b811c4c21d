package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/webhook"
)

func TestAFailingWebhookShowsAndItsDeadLettersAreRedelivered(t *testing.T) {
	t.Parallel()
	var ok atomic.Bool
	var received atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ok.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		received.Add(1)
	}))
	defer receiver.Close()
	var d *webhook.Deliverer
	e := newEnv(t, console.Config{Redeliver: func(ctx context.Context, id, dir string, from, to int64) ([]store.DeliveryAttempt, error) {
		return d.Redeliver(ctx, id, dir, from, to)
	}}, false)
	d = webhook.New(webhook.Config{Store: e.st, AllowPrivate: true, Schedule: []time.Duration{0, 0}, Jitter: -1, Poll: 20 * time.Millisecond})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	defer func() { stop(); <-done }()

	dir := e.createDirectory(t, "acme")
	hook, err := e.st.CreateWebhook(ctx, store.WebhookSpec{URL: receiver.URL, Directory: dir.ID})
	if err != nil {
		t.Fatal(err)
	}
	createUser(t, e.st, dir.ID, `{"userName":"ann"}`)
	var dead []store.DeadLetter
	for deadline := time.Now().Add(20 * time.Second); len(dead) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the failing delivery was not dead-lettered")
		}
		if dead, err = e.st.DeadLetters(ctx, hook.ID, 10); err != nil {
			t.Fatal(err)
		}
	}
	b := e.login(t, e.client)
	if p := b.get("/ui/").must(t, 200); !strings.Contains(p.body, "(1 failing)") {
		t.Errorf("the directories page does not show the failing webhook:\n%s", p.body)
	}
	if p := b.get("/ui/directories/"+dir.ID).must(t, 200); !strings.Contains(p.body, receiver.URL) || !strings.Contains(p.body, "<td>500 ") {
		t.Errorf("the directory page does not show the webhook's failed delivery:\n%s", p.body)
	}
	p := b.get("/ui/webhooks/"+hook.ID).must(t, 200)
	if !strings.Contains(p.body, `class="dead-letter"`) || !strings.Contains(p.body, "Redeliver seq "+strconv.FormatInt(dead[0].Seq, 10)) ||
		strings.Contains(p.body, hook.Secret) {
		t.Fatalf("the webhook page:\n%s", p.body)
	}
	ok.Store(true)
	form := url.Values{"csrf": {p.csrf(t)}, "directory": {dir.ID}, "from": {strconv.FormatInt(dead[0].Seq, 10)}}
	b.post("/ui/webhooks/"+hook.ID+"/redeliver", url.Values{"directory": {dir.ID}, "from": {"1"}}).must(t, http.StatusForbidden)
	p = b.post("/ui/webhooks/"+hook.ID+"/redeliver", form).must(t, 200)
	if !strings.Contains(p.body, "Sent again") || received.Load() != 1 {
		t.Errorf("the redelivery (received %d):\n%s", received.Load(), p.body)
	}
	form.Set("to", "0")
	b.post("/ui/webhooks/"+hook.ID+"/redeliver", form).must(t, http.StatusBadRequest)
}
