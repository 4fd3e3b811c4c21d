package sse

import (
	"bufio"
	"context"
	"errors"
	"io"
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
	res, err := srv.Client().Get(srv.URL)
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

// TestAClosedStreamWritesNothing holds that no write reaches the
// ResponseWriter after Close: a KeepAlive goroutine can outlive its
// handler, and net/http reuses what the handler wrote to.
func TestAClosedStreamWritesNothing(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	s, err := Start(rec, "hello")
	if err != nil {
		t.Fatal(err)
	}
	before := rec.Body.String()
	s.Close()
	if err := s.Event("1", "user.created", []byte(`{}`)); !errors.Is(err, ErrClosed) {
		t.Fatalf("an event after Close: %v", err)
	}
	stopped := make(chan struct{})
	go s.KeepAlive(context.Background(), time.Millisecond, func() { close(stopped) })
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("KeepAlive went on after Close")
	}
	if rec.Body.String() != before {
		t.Fatalf("written after Close: %q", rec.Body.String()[len(before):])
	}
}

// TestAHandlerReturnsWhileKeepingAlive returns from handlers whose
// keep-alive ticks constantly; under -race a write after the handler's
// return is reported.
func TestAHandlerReturnsWhileKeepingAlive(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := Start(w, "hello")
		defer s.Close()
		if err != nil {
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go s.KeepAlive(ctx, time.Microsecond, cancel)
		time.Sleep(time.Millisecond)
	}))
	defer srv.Close()
	for range 50 {
		res, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}
