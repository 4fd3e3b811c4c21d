package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/rosterhq/roster/event"
	"github.com/rosterhq/roster/internal/sse"
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
	stream, err := sse.Start(w, "roster console live feed")
	defer stream.Close()
	if err != nil {
		return nil
	}
	go stream.KeepAlive(ctx, c.KeepAlive, cancel)
	send := func(e store.Event) error {
		b, err := e.MarshalJSON()
		if err != nil {
			return err
		}
		id := "" // the all-directories feed does not resume
		if dir != "" {
			id = strconv.FormatInt(e.Seq, 10)
		}
		return stream.Event(id, "change", b)
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
