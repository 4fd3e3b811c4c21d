package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/rosterhq/roster/event"
	"github.com/rosterhq/roster/store"
)

// live shows the live feed page; its script reads stream.
func (c *console) live(w http.ResponseWriter, r *http.Request, s *session) error {
	dirs, names, err := c.directoryNames(r)
	if err != nil {
		return err
	}
	dir := r.URL.Query().Get("directory")
	if dir != "" {
		d, err := c.Store.Directory(r.Context(), dir)
		if err != nil {
			return err
		}
		dir = d.ID
	}
	namesJSON, err := json.Marshal(names)
	if err != nil {
		return fmt.Errorf("console: directory names: %w", err)
	}
	c.render(w, r, http.StatusOK, "live", s, map[string]any{"Directories": dirs, "Directory": dir, "Names": string(namesJSON)})
	return nil
}

// stream answers the live feed's Server-Sent Events: the events of one
// directory (?directory=ID, resuming after Last-Event-ID) or of all, from
// now on, each as {event JSON} with the directory's name.
func (c *console) stream(w http.ResponseWriter, r *http.Request, s *session) error {
	dir := r.URL.Query().Get("directory")
	var after int64
	if dir != "" {
		d, err := c.Store.Directory(r.Context(), dir)
		if err != nil {
			return err
		}
		dir = d.ID
		if id := r.Header.Get("Last-Event-ID"); id != "" {
			if _, err := fmt.Sscan(id, &after); err != nil {
				return pageError{http.StatusBadRequest, "Last-Event-ID must be a seq"}
			}
		} else if after, err = c.Store.LastEventSeq(r.Context(), dir); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	sse, err := startEventStream(ctx, cancel, w, "roster console live feed", c.KeepAlive)
	if err != nil {
		return nil
	}
	send := func(e store.Event) error {
		b, err := e.MarshalJSON()
		if err != nil {
			return err
		}
		if dir != "" {
			return sse.write("id: %d\nevent: change\ndata: %s\n\n", e.Seq, b)
		}
		return sse.write("event: change\ndata: %s\n\n", b)
	}
	if dir == "" {
		err = event.FollowAll(ctx, c.Store, c.Poll, send)
	} else {
		f := event.Follower{Store: c.Store, Directory: dir, After: after, Poll: c.Poll}
		err = f.Follow(ctx, send)
	}
	if err != nil && ctx.Err() == nil {
		c.Logger.WarnContext(r.Context(), "console live feed ended", "err", err)
	}
	return nil
}

// eventStream is a Server-Sent Events response whose writes, events and
// keep-alives alike, go one at a time and are flushed each.
type eventStream struct {
	mu sync.Mutex
	w  http.ResponseWriter
	rc *http.ResponseController
}

// startEventStream answers 200 with an event stream opened by the comment
// and keeps it alive with a comment every keepAlive until ctx ends; a
// write that fails (the client left) calls cancel. The error is the
// opening comment's: the stream is already gone.
func startEventStream(ctx context.Context, cancel context.CancelFunc, w http.ResponseWriter, comment string, keepAlive time.Duration) (*eventStream, error) {
	s := &eventStream{w: w, rc: http.NewResponseController(w)}
	s.rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := s.write(": %s\n\n", comment); err != nil {
		return nil, err
	}
	go func() {
		t := time.NewTicker(keepAlive)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if s.write(": keep-alive\n\n") != nil {
					cancel()
					return
				}
			}
		}
	}()
	return s, nil
}

// write writes one formatted message and flushes it.
func (s *eventStream) write(format string, args ...any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := fmt.Fprintf(s.w, format, args...); err != nil {
		return err
	}
	return s.rc.Flush()
}
