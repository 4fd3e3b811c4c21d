package management

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/event"
	"github.com/rosterhq/roster/internal/sse"
	"github.com/rosterhq/roster/store"
)

// Limits of the events list.
const (
	defaultEventLimit = 100
	maxEventLimit     = 1000
)

// eventDirectory returns the id of the directory a request's "directory"
// parameter names: a directory's id or name, or the id of a deleted
// directory whose events are still kept.
func (a *api) eventDirectory(r *http.Request) (string, error) {
	name := r.URL.Query().Get("directory")
	if name == "" {
		return "", errorf(http.StatusBadRequest, "the directory parameter (a directory's name or id) is required")
	}
	d, err := a.Store.Directory(r.Context(), name)
	if err == nil {
		return d.ID, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	kept, err := a.Store.Events(r.Context(), store.EventQuery{Directory: name, Limit: 1})
	if err != nil {
		return "", err
	}
	if len(kept) == 0 {
		return "", errorf(http.StatusNotFound, "no directory %q", name)
	}
	return name, nil
}

// eventTypes reads the types parameter: event types separated by commas.
func eventTypes(r *http.Request) ([]string, error) {
	var types []string
	for _, list := range r.URL.Query()["types"] {
		for _, t := range strings.Split(list, ",") {
			if t = strings.TrimSpace(t); t == "" {
				continue
			}
			if !store.IsEventType(t) {
				return nil, errorf(http.StatusBadRequest, "types: %q is not an event type; the types are %s", t, strings.Join(store.EventTypes, ", "))
			}
			types = append(types, t)
		}
	}
	return types, nil
}

// intParam reads a non-negative integer parameter, def when absent.
func intParam(r *http.Request, name string, def int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errorf(http.StatusBadRequest, "%s must be a whole number ≥ 0, not %q", name, s)
	}
	return n, nil
}

// listEvents answers GET /api/v1/events?directory=&after=&types=&limit=
// with {"data": [event, …], "next_after": seq}: the events after the seq
// after, in order; the next call asks for those after next_after. With
// types, next_after may be past the last event in data (past events of
// other types: see event.ReadPage), and data may be empty before the
// newest event.
func (a *api) listEvents(w http.ResponseWriter, r *http.Request) error {
	dir, err := a.eventDirectory(r)
	if err != nil {
		return err
	}
	after, err := intParam(r, "after", 0)
	if err != nil {
		return err
	}
	limit, err := intParam(r, "limit", defaultEventLimit)
	if err != nil {
		return err
	}
	if limit < 1 || limit > maxEventLimit {
		return errorf(http.StatusBadRequest, "limit must be between 1 and %d, not %d", maxEventLimit, limit)
	}
	types, err := eventTypes(r)
	if err != nil {
		return err
	}
	p, err := event.ReadPage(r.Context(), a.Store, store.EventQuery{Directory: dir, After: after, Types: types, Limit: int(limit)}, 0)
	if err != nil {
		return err
	}
	if p.Events == nil {
		p.Events = []store.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": p.Events, "next_after": p.Next})
	return nil
}

// stream answers GET /api/v1/events/stream?directory= with the events as
// Server-Sent Events (id: the seq, event: the type, data: the event), from
// after the Last-Event-ID header (or the after parameter) on, or from now
// when neither is given, with a comment every KeepAlive so that proxies
// keep the connection. Without a directory it streams every directory's
// events from now on; those ids are seqs of different directories, so
// that stream does not resume.
func (a *api) stream(w http.ResponseWriter, r *http.Request) error {
	all := r.URL.Query().Get("directory") == ""
	var dir string
	var err error
	if !all {
		if dir, err = a.eventDirectory(r); err != nil {
			return err
		}
	}
	types, err := eventTypes(r)
	if err != nil {
		return err
	}
	after, err := intParam(r, "after", -1)
	if err != nil {
		return err
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" && !all {
		if after, err = strconv.ParseInt(id, 10, 64); err != nil || after < 0 {
			return errorf(http.StatusBadRequest, "Last-Event-ID must be the seq of an event, not %q", id)
		}
	}
	if after < 0 && !all {
		if after, err = a.Store.LastEventSeq(r.Context(), dir); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}

	stream, err := sse.Start(w, "roster event stream")
	defer stream.Close()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go stream.KeepAlive(ctx, a.KeepAlive, cancel)
	wanted := map[string]bool{}
	for _, t := range types {
		wanted[t] = true
	}
	send := func(e store.Event) error {
		if all && len(wanted) > 0 && !wanted[e.Type] {
			return nil
		}
		b, err := e.MarshalJSON()
		if err != nil {
			return err
		}
		return stream.Event(strconv.FormatInt(e.Seq, 10), e.Type, b)
	}
	if all {
		err = event.FollowAll(ctx, a.Store, a.Poll, send)
	} else {
		f := event.Follower{Store: a.Store, Directory: dir, After: after, Types: types, Poll: a.Poll}
		err = f.Follow(ctx, send)
	}
	if err != nil && ctx.Err() == nil {
		a.Logger.WarnContext(r.Context(), "event stream ended", "err", err)
	}
	return nil // the answer has begun: nothing more to say
}
