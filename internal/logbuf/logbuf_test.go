package logbuf

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLinesArriveWithinTheIntervalOrAtFlush(t *testing.T) {
	t.Parallel()
	out := &syncBuffer{}
	w := New(out, 20*time.Millisecond, 4096)
	w.Write([]byte("one\n"))
	if out.String() != "" {
		t.Fatal("a line went through at once")
	}
	deadline := time.Now().Add(10 * time.Second)
	for out.String() != "one\n" {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s the log holds %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	slow := New(out, time.Hour, 4096)
	slow.Write([]byte("two\n"))
	if err := slow.Flush(); err != nil || out.String() != "one\ntwo\n" {
		t.Fatalf("after Flush: %q, %v", out.String(), err)
	}
}

func TestAFullBufferGoesThrough(t *testing.T) {
	t.Parallel()
	out := &syncBuffer{}
	w := New(out, time.Hour, 16)
	line := strings.Repeat("x", 10) + "\n"
	for range 4 {
		w.Write([]byte(line))
	}
	if got := out.String(); len(got) < 2*len(line) {
		t.Fatalf("after 44 bytes into a 16-byte buffer, %d went through", len(got))
	}
	w.Flush()
	if got := out.String(); got != strings.Repeat(line, 4) {
		t.Fatalf("after Flush: %q", got)
	}
}

func TestConcurrentWritesKeepLinesWhole(t *testing.T) {
	t.Parallel()
	out := &syncBuffer{}
	w := New(out, time.Millisecond, 64)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				w.Write([]byte(strings.Repeat(string(rune('a'+i)), 9) + "\n"))
			}
		})
	}
	wg.Wait()
	w.Flush()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, l := range lines {
		if len(l) != 9 || strings.Count(l, l[:1]) != 9 {
			t.Fatalf("a torn line: %q", l)
		}
	}
}
