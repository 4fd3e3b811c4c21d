package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// PendingEvent is an event a transaction writes just before it commits
// (see WriteEvents).
type PendingEvent struct {
	Type, Directory, Resource string
	Time                      time.Time
	Data, Previous            []byte
	// Context is the JSON of the change's store.EventContext.
	Context []byte
}

// EventRow is an event as a dialect inserts it: the columns of events
// but the directory and the seq, which InsertEvents gives.
type EventRow struct {
	ID, Type string
	Resource any // "" is NULL
	Time     any // Dialect.Time
	Data     string
	Previous any // NULL for none
	Context  string
}

// WriteEvents inserts events in the transaction tx of the change they
// record (Dialect.InsertEvents), each directory's in the order given, the
// directories in the order of their ids, as the transaction's last
// statement (the dialect may send them with its COMMIT).
func WriteEvents(ctx context.Context, tx Querier, d Dialect, events []PendingEvent) error {
	if len(events) == 0 {
		return nil
	}
	byDir := map[string][]EventRow{}
	for _, e := range events {
		byDir[e.Directory] = append(byDir[e.Directory], NewEventRow(d, e))
	}
	for _, dir := range slices.Sorted(maps.Keys(byDir)) {
		if err := d.InsertEvents(ctx, tx, dir, byDir[dir], true); err != nil {
			return fmt.Errorf("events: %w", err)
		}
	}
	return nil
}

// NewEventRow returns the row of an event, with a new id, for the
// dialect d; its directory and seq are InsertEvents'.
func NewEventRow(d Dialect, e PendingEvent) EventRow {
	row := EventRow{ID: newEventID(), Type: e.Type, Resource: nullString(e.Resource), Time: d.Time(e.Time),
		Data: string(e.Data), Context: string(e.Context)}
	if e.Previous != nil {
		row.Previous = string(e.Previous)
	}
	return row
}

// newEventID returns a new event id.
func newEventID() string {
	return "evt_" + strings.ReplaceAll(store.NewID(), "-", "")
}

// eventContext returns the JSON of the EventContext ctx carries.
func eventContext(ctx context.Context) []byte {
	b, _ := json.Marshal(store.EventContextOf(ctx)) // strings always encode
	return b
}

// events collects the events of one change.
type events struct {
	ctx  []byte
	t    time.Time
	list []PendingEvent
}

func (s *Store) newEvents(ctx context.Context, t time.Time) *events {
	return &events{ctx: eventContext(ctx), t: t}
}

func (e *events) add(typ, dir, res string, data, previous []byte) {
	e.list = append(e.list, PendingEvent{Type: typ, Directory: dir, Resource: res, Time: e.t, Data: data, Previous: previous, Context: e.ctx})
}

// kind is the prefix of a resource type's events: "user", "group", or
// for another type its name in lower case.
func kind(rt *schema.ResourceType) string {
	if rt.Schema.Attribute("members") != nil {
		return "group"
	}
	return strings.ToLower(rt.Name)
}

// resourceData is the data of an event about r: r as the SCIM API
// returns it, without a group's members or a user's groups (and never
// what is returned "never", such as a password).
func resourceData(r *resource.Resource) []byte {
	c := &resource.Resource{Type: r.Type, Attrs: maps.Clone(r.Attrs)}
	delete(c.Attrs, "members")
	delete(c.Attrs, "groups")
	return c.AppendJSON(nil, nil)
}

// memberData is the data of a group.user_added or group.user_removed
// event.
func memberData(group, name string, m store.Member) []byte {
	type ref struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName,omitempty"`
		Type        string `json:"type,omitempty"`
	}
	b, _ := json.Marshal(struct {
		Group  ref `json:"group"`
		Member ref `json:"member"`
	}{ref{ID: group, DisplayName: name}, ref{ID: m.ID, Type: cmp.Or(m.Type, "User")}})
	return b
}

// memberEvents adds the events of members added to or removed from a
// group.
func (e *events) members(typ, dir, group, name string, list []store.Member) {
	for _, m := range list {
		e.add(typ, dir, m.ID, memberData(group, name, m), nil)
	}
}

// updated adds the event of a change of a resource from before to
// after, if any attribute changed: for a user whose active changed,
// user.deactivated or user.reactivated, else user.updated (group.updated
// for a group), with the changed attributes' old values.
func (e *events) updated(dir string, before, after *resource.Resource) {
	prev := previous(before, after)
	if len(prev) == 0 {
		return
	}
	k := kind(after.Type)
	typ := k + ".updated"
	if k == "user" {
		was, is := isActive(before), isActive(after)
		switch {
		case was && !is:
			typ = store.UserDeactivated
		case !was && is:
			typ = store.UserReactivated
		}
	}
	b, _ := json.Marshal(prev) // decoded attribute values always encode
	e.add(typ, dir, after.ID(), resourceData(after), b)
}

// isActive reports whether a user is active: a user without the attribute
// is, as identity providers read it.
func isActive(r *resource.Resource) bool {
	v, ok := r.Attrs["active"].(bool)
	return !ok || v
}

// previous returns the attributes whose values differ between before and
// after, with their values before (nil for none); an extension's changed
// attributes are under its URN. The id, meta, computed members and groups
// and what is never returned (a password) are left out.
func previous(before, after *resource.Resource) map[string]any {
	out := map[string]any{}
	skip := func(name string, attrs func(string) *schema.Attribute) bool {
		switch name {
		case "id", "meta", "members", "groups", "schemas":
			return true
		}
		a := attrs(name)
		return a != nil && a.Returned == schema.Never
	}
	diff := func(dst map[string]any, b, a map[string]any, attrs func(string) *schema.Attribute) {
		for k, v := range b {
			if !skip(k, attrs) && !resource.Equal(v, a[k]) {
				dst[k] = v
			}
		}
		for k := range a {
			if _, ok := b[k]; !ok && !skip(k, attrs) {
				dst[k] = nil // it had none
			}
		}
	}
	core := func(name string) *schema.Attribute { return before.Type.Schema.Attribute(name) }
	ext := map[string]bool{}
	for _, x := range before.Type.Extensions {
		ext[x.Schema.ID] = true
		bm, _ := before.Attrs[x.Schema.ID].(map[string]any)
		am, _ := after.Attrs[x.Schema.ID].(map[string]any)
		sub := map[string]any{}
		diff(sub, bm, am, x.Schema.Attribute)
		if len(sub) > 0 {
			out[x.Schema.ID] = sub
		}
	}
	b, a := map[string]any{}, map[string]any{}
	for k, v := range before.Attrs {
		if !ext[k] {
			b[k] = v
		}
	}
	for k, v := range after.Attrs {
		if !ext[k] {
			a[k] = v
		}
	}
	diff(out, b, a, core)
	return out
}

// Events implements store.Events.
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	if s.checkText(q.Directory) != nil {
		return nil, nil
	}
	for _, t := range q.Types {
		if s.checkText(t) != nil {
			return nil, nil
		}
	}
	if err := s.d.NumberEvents(ctx, q.Directory); err != nil {
		return nil, s.errorf("read events", err)
	}
	limit := max(q.Limit, 1)
	through := q.Through
	if through <= 0 {
		through = math.MaxInt64
	}
	query, args := s.sql.Events, []any{q.Directory, q.After, limit, through}
	if len(q.Types) > 0 {
		query, args = s.sql.EventsOfTypes, append(args, s.d.List(q.Types))
	}
	out, err := queryAll(ctx, s.d.Reader(), func(row Row) (store.Event, error) {
		return scanEvent(row, q.Directory)
	}, query, args...)
	if err != nil {
		return nil, s.errorf("read events", err)
	}
	return out, nil
}

// scanEvent reads an event of the directory dir from seq, id, type,
// resource_id, time, data, previous, context.
func scanEvent(row Row, dir string) (store.Event, error) {
	e := store.Event{Directory: dir}
	var t Time
	var res, prev sql.NullString
	var data, ectx string
	if err := row.Scan(&e.Seq, &e.ID, &e.Type, &res, &t, &data, &prev, &ectx); err != nil {
		return e, err
	}
	e.Time, e.Resource, e.Data = t.Time, res.String, json.RawMessage(data)
	if prev.Valid {
		e.Previous = json.RawMessage(prev.String)
	}
	if err := json.Unmarshal([]byte(ectx), &e.Context); err != nil {
		return e, fmt.Errorf("event %s: context: %w", e.ID, err)
	}
	return e, nil
}

// LastEventSeq implements store.Events: the seq of the directory's newest
// event, which retention always keeps.
func (s *Store) LastEventSeq(ctx context.Context, dir string) (int64, error) {
	if s.checkText(dir) != nil {
		return 0, nil
	}
	if err := s.d.NumberEvents(ctx, dir); err != nil {
		return 0, s.errorf("last event", err)
	}
	var seq int64
	if err := s.d.Reader().QueryRow(ctx, `SELECT COALESCE(max(seq), 0) FROM events WHERE directory_id = $1`, dir).Scan(&seq); err != nil {
		return 0, s.errorf("last event", err)
	}
	return seq, nil
}

// PruneRange selects the first seq of a directory's events ($1) and the
// first seq of those PruneEvents keeps, the newest if all are older than
// a time ($2). Each is one step in the index on (directory_id, seq), which
// holds numbered events only on PostgreSQL: seq IS NOT NULL says so.
const PruneRange = `SELECT (SELECT min(seq) FROM events WHERE directory_id = $1),
	COALESCE((SELECT seq FROM events WHERE directory_id = $1 AND seq IS NOT NULL AND time >= $2 ORDER BY seq LIMIT 1),
		(SELECT max(seq) FROM events WHERE directory_id = $1))`

// PruneEvents implements store.Events. A directory's events are in time
// order by seq, near enough (their times are their changes' starts; a
// change that ran long commits, and is numbered, after changes that
// started later), so each directory's old events are a range of seqs
// from its first, deleted by the index on seqs without an index on times:
// an event out of order is kept a little longer, never deleted early.
// The newest event of a directory is always kept, so that its seqs go on
// from it.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	limit = max(limit, 1)
	// Numbered first: an event that no one reads would never be, nor
	// leave.
	if err := s.d.NumberEvents(ctx, ""); err != nil {
		return 0, s.errorf("prune events", err)
	}
	deleted, dir := 0, ""
	for deleted < limit {
		err := s.d.Reader().QueryRow(ctx, `SELECT directory_id FROM events WHERE directory_id > $1 ORDER BY directory_id LIMIT 1`, dir).Scan(&dir)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return deleted, s.errorf("prune events", err)
		}
		var first, keep int64
		err = s.d.Reader().QueryRow(ctx, PruneRange, dir, s.d.Time(before)).Scan(&first, &keep)
		if err != nil {
			return deleted, s.errorf("prune events", err)
		}
		end := min(keep, first+int64(limit-deleted))
		if end <= first {
			continue
		}
		n, err := s.d.Writer().Exec(ctx, `DELETE FROM events WHERE directory_id = $1 AND seq >= $2 AND seq < $3`, dir, first, end)
		if err != nil {
			return deleted, s.errorf("prune events", err)
		}
		deleted += int(n)
	}
	return deleted, nil
}

// signal wakes the readers of events when a change commits some.
type signal struct {
	mu sync.Mutex
	ch chan struct{} // nil while no one waits
}

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// EventsWritten implements store.Events.
func (s *Store) EventsWritten() <-chan struct{} { return s.written.wait() }
