// Package sse writes Server-Sent Events: the headers, events and
// comments, flushed as they are written, and the keep-alive comments that
// keep proxies from closing a quiet stream. The management API's event
// stream and the console's live feed write through it.
package sse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// ErrClosed is returned by a write to a Stream after its Close.
var ErrClosed = errors.New("sse: write to a closed stream")

// Stream is an answer of Server-Sent Events. Its methods are safe for
// concurrent use: events and keep-alives interleave whole.
type Stream struct {
	mu     sync.Mutex
	w      http.ResponseWriter
	rc     *http.ResponseController
	closed bool
}

// Start answers 200 with text/event-stream, lifts the server's write
// timeout (a stream outlives it) and writes comment as the first line.
func Start(w http.ResponseWriter, comment string) (*Stream, error) {
	s := &Stream{w: w, rc: http.NewResponseController(w)}
	s.rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return s, s.Comment(comment)
}

// Comment writes a comment line, which clients ignore.
func (s *Stream) Comment(text string) error { return s.write(": %s\n\n", text) }

// Event writes an event: its id (none when id is ""), its type and its
// data, one line of JSON.
func (s *Stream) Event(id, typ string, data []byte) error {
	if id == "" {
		return s.write("event: %s\ndata: %s\n\n", typ, data)
	}
	return s.write("id: %s\nevent: %s\ndata: %s\n\n", id, typ, data)
}

// Close waits for a write in progress and makes every later write fail
// with ErrClosed. A handler calls it before it returns: net/http must not
// see the ResponseWriter used after that, and a KeepAlive goroutine may
// still be running.
func (s *Stream) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

func (s *Stream) write(format string, args ...any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, err := fmt.Fprintf(s.w, format, args...); err != nil {
		return err
	}
	return s.rc.Flush()
}

// KeepAlive writes a comment every interval until ctx ends; when one
// cannot be written (the client is gone, or the stream is closed) it
// calls stop and returns. Run it in a goroutine of its own, and Close the
// stream before the handler returns.
func (s *Stream) KeepAlive(ctx context.Context, interval time.Duration, stop func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s.Comment("keep-alive") != nil {
				stop()
				return
			}
		}
	}
}
