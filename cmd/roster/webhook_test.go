package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/webhook"
)

// loopbackAddr returns a loopback address with a port nothing listens on.
func loopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// listen runs roster webhook listen with args until it exits, which
// done receives; its stdout is out.
func listen(t *testing.T, out *syncBuffer, args ...string) (done chan error, cancel func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	cmd := newRootCommand(noEnv)
	cmd.SetOut(out)
	cmd.SetErr(&logs)
	cmd.SetArgs(append([]string{"webhook", "listen"}, args...))
	done = make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	waitFor(t, &logs, regexp.MustCompile(`(listening) for webhook deliveries`), done)
	t.Cleanup(cancel)
	return done, cancel
}

// TestWebhookCommands makes a webhook, serves the database with the
// deliveries on, and has roster webhook listen receive, verify and print
// what a SCIM client's changes send; then rotates the secret, redelivers
// an event with both signatures, and deletes the webhook.
func TestWebhookCommands(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	if out, err := run(t, "directory", "create", "acme", "--db", db); err != nil {
		t.Fatalf("directory create: %v\n%s", err, out)
	}
	addr := loopbackAddr(t)
	hookURL := "http://" + addr + "/hooks"
	if out, err := run(t, "webhook", "create", "--url", hookURL, "--directory", "acme", "--db", db); err == nil || !strings.Contains(out, "--allow-private") {
		t.Fatalf("a webhook to a loopback address without --allow-private: %v\n%s", err, out)
	}
	if out, err := run(t, "webhook", "create", "--url", "https://app.example.com/hooks", "--type", "user.exploded", "--db", db); err == nil {
		t.Fatalf("a webhook of an unknown event type: %s", out)
	}
	out, err := run(t, "webhook", "create", "--url", hookURL, "--directory", "acme", "--type", "user.created", "--allow-private", "--db", db)
	if err != nil {
		t.Fatalf("webhook create: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secret := lines[len(lines)-1]
	id := regexp.MustCompile(`wh_[0-9a-f]+`).FindString(out)
	if !strings.HasPrefix(secret, "whsec_") || id == "" || !strings.Contains(out, "directory acme, user.created") {
		t.Fatalf("webhook create printed %q, want its id, what it gets, and the secret alone on the last line", out)
	}

	var events syncBuffer
	listened, _ := listen(t, &events, "--addr", addr, "--secret", secret, "--count", "2")

	// The server delivers what its SCIM API's changes make.
	tok, err := run(t, "token", "create", "--directory", "acme", "--name", "okta", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	tok = strings.TrimSpace(tok)
	ctx, stop := context.WithCancel(context.Background())
	var logs syncBuffer
	serve := newRootCommand(noEnv)
	serve.SetOut(io.Discard)
	serve.SetErr(&logs)
	serve.SetArgs([]string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--allow-private-webhooks"})
	served := make(chan error, 1)
	go func() { served <- serve.ExecuteContext(ctx) }()
	scimURL := serveURL(t, &logs, served)
	client := testClient(t)
	for _, name := range []string{"ada", "alan"} {
		req, _ := http.NewRequest(http.MethodPost, scimURL+"/Users", strings.NewReader(`{"userName":"`+name+`"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST /Users: %d", resp.StatusCode)
		}
	}
	select {
	case err := <-listened:
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("listen got no two events in a minute; it printed:\n%s\nserve logged:\n%s", events.String(), logs.String())
	}
	stop()
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	var got []store.Event
	for _, line := range strings.Split(strings.TrimSpace(events.String()), "\n") {
		var e store.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("listen printed %q: %v", line, err)
		}
		got = append(got, e)
	}
	if len(got) != 2 || got[0].Type != store.UserCreated || got[1].Seq <= got[0].Seq || !strings.Contains(string(got[1].Data), "alan") {
		t.Fatalf("listen printed %s, want ada's and alan's user.created in order", events.String())
	}

	// The server stopped after its deliveries reported: the log has them.
	out, err = run(t, "webhook", "deliveries", id, "--db", db)
	// The status column, spaced: an event's random id may hold "204" too.
	if err != nil || strings.Count(out, " 204 ") != 2 || !strings.Contains(out, got[0].ID) {
		t.Errorf("webhook deliveries: %v\n%s", err, out)
	}
	out, err = run(t, "webhook", "list", "--db", db)
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, hookURL) || strings.Contains(out, secret) {
		t.Errorf("webhook list: %v\n%s (it must show the webhook and never its secret)", err, out)
	}

	out, err = run(t, "webhook", "rotate", id, "--db", db)
	lines = strings.Split(strings.TrimSpace(out), "\n")
	rotated := lines[len(lines)-1]
	if err != nil || !strings.HasPrefix(rotated, "whsec_") || rotated == secret {
		t.Fatalf("webhook rotate: %v\n%s", err, out)
	}
	// A receiver that knows only the new secret verifies a redelivery,
	// which carries both signatures.
	var again syncBuffer
	listened, _ = listen(t, &again, "--addr", addr, "--secret", rotated, "--count", "1")
	seq := got[1].Seq
	out, err = run(t, "webhook", "redeliver", id, "--directory", "acme", "--seq", strconv.FormatInt(seq, 10), "--allow-private", "--db", db)
	if err != nil || !strings.Contains(out, "204") {
		t.Fatalf("webhook redeliver: %v\n%s", err, out)
	}
	if err := <-listened; err != nil {
		t.Fatal(err)
	}
	var e store.Event
	if err := json.Unmarshal([]byte(again.String()), &e); err != nil || e.ID != got[1].ID {
		t.Errorf("the redelivery printed %q (%v), want alan's event again", again.String(), err)
	}
	if out, err := run(t, "webhook", "deliveries", id, "--db", db); err != nil || !strings.Contains(out, "manual") {
		t.Errorf("the log after a redelivery: %v\n%s", err, out)
	}

	if out, err := run(t, "webhook", "delete", id, "--db", db); err != nil {
		t.Fatalf("webhook delete: %v\n%s", err, out)
	}
	if out, _ := run(t, "webhook", "list", "--db", db); strings.Contains(out, id) {
		t.Errorf("after delete, webhook list: %s", out)
	}
}

// roster webhook listen answers 401 to a delivery that does not verify,
// and prints nothing of it.
func TestWebhookListenRefusesBadSignatures(t *testing.T) {
	t.Parallel()
	addr := loopbackAddr(t)
	secret := "whsec_" + strings.Repeat("QUJD", 8)
	var out syncBuffer
	listen(t, &out, "--addr", addr, "--secret", secret)
	body := `{"id":"evt_1","type":"user.created"}`
	now := time.Now()
	other, _ := webhook.Sign("whsec_"+strings.Repeat("WFla", 8), "evt_1", now, []byte(body))
	good, _ := webhook.Sign(secret, "evt_1", now, []byte(body))
	client := testClient(t)
	for sig, want := range map[string]int{other: http.StatusUnauthorized, "": http.StatusUnauthorized, good: http.StatusNoContent} {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
		req.Header.Set(webhook.HeaderID, "evt_1")
		req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(webhook.HeaderSignature, sig)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("signature %q: %d, want %d", sig, resp.StatusCode, want)
		}
	}
	if got := strings.TrimSpace(out.String()); got != body {
		t.Errorf("listen printed %q, want the one verified event", got)
	}
	if _, err := run(t, "webhook", "listen", "--secret", "whsec_not base64!"); err == nil {
		t.Error("listen took a secret that is no base64")
	}
}
