package sse

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestAStreamWritesEventsAndKeepsAlive reads a real stream over loopback:
// the first comment, an event with and without id, and keep-alive
// comments while it is quiet.
func TestAStreamWritesEventsAndKeepsAlive(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := Start(w, "hello")
		if err != nil {
			return
		}
		s.Event("7", "user.created", []byte(`{"seq":7}`))
		s.Event("", "change", []byte(`{}`))
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		s.KeepAlive(ctx, 10*time.Millisecond, cancel)
	}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	want := []string{": hello", "", "id: 7", "event: user.created", `data: {"seq":7}`, "", "event: change", "data: {}", "", ": keep-alive", "", ": keep-alive"}
	sc := bufio.NewScanner(res.Body)
	var got []string
	for len(got) < len(want) && sc.Scan() {
		got = append(got, sc.Text())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the stream:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
