// Package logbuf buffers a log's lines and writes them on in batches: a
// server that logs a line per request would otherwise make a write system
// call per request for its log alone.
package logbuf

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// Writer buffers what is written to it and writes it on to the writer
// underneath at most Interval after it was written, or sooner when the
// buffer fills, and at Flush. It is safe for concurrent use.
type Writer struct {
	interval time.Duration

	mu    sync.Mutex
	buf   *bufio.Writer
	timer *time.Timer // armed while the buffer holds something
	err   error       // the first error writing on, returned by Flush
}

// New returns a Writer onto w that writes on what it holds at most
// interval after it was written, with a buffer of size bytes.
func New(w io.Writer, interval time.Duration, size int) *Writer {
	return &Writer{interval: interval, buf: bufio.NewWriterSize(w, size)}
}

// Write buffers p (a log line, as slog's handlers write one per call).
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	if w.buf.Buffered() > 0 && w.timer == nil {
		w.timer = time.AfterFunc(w.interval, func() { w.Flush() })
	}
	return n, err
}

// Flush writes on what the buffer holds, and returns the first error
// writing on met, if any.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	if err := w.buf.Flush(); err != nil && w.err == nil {
		w.err = err
	}
	return w.err
}
