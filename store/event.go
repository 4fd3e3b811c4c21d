package store

import (
	"context"
	"encoding/json"
	"time"
)

// The types of events (the names WorkOS Directory Sync and Ory Polis use).
const (
	UserCreated      = "user.created"
	UserUpdated      = "user.updated"
	UserDeactivated  = "user.deactivated"
	UserReactivated  = "user.reactivated"
	UserDeleted      = "user.deleted"
	GroupCreated     = "group.created"
	GroupUpdated     = "group.updated"
	GroupDeleted     = "group.deleted"
	GroupUserAdded   = "group.user_added"
	GroupUserRemoved = "group.user_removed"
	DirectoryCreated = "directory.created"
	DirectoryDeleted = "directory.deleted"
	TokenCreated     = "token.created"
	TokenRevoked     = "token.revoked"
)

// EventTypes lists every event type, in the order the documentation gives
// them.
var EventTypes = []string{
	UserCreated, UserUpdated, UserDeactivated, UserReactivated, UserDeleted,
	GroupCreated, GroupUpdated, GroupDeleted, GroupUserAdded, GroupUserRemoved,
	DirectoryCreated, DirectoryDeleted, TokenCreated, TokenRevoked,
}

// IsEventType reports whether t is one of EventTypes.
func IsEventType(t string) bool {
	for _, e := range EventTypes {
		if e == t {
			return true
		}
	}
	return false
}

// Event is one change to a directory, written by the store in the same
// transaction as the change (a transactional outbox): a change that rolls
// back leaves no event, and a change that committed always has its
// events.
type Event struct {
	// ID is unique among all events ("evt_…"); webhooks send it as
	// webhook-id, so that a receiver can drop a delivery it has seen.
	ID string
	// Type is one of EventTypes.
	Type string
	// Directory is the id of the directory the change was made in.
	Directory string
	// Seq orders the events of a directory: it only grows, in the order
	// the changes committed, so that a reader that has seen Seq n and asks
	// for the events after n misses none.
	Seq  int64
	Time time.Time
	// Resource is the id of the user, group or token the event is about
	// ("" for a directory's own events).
	Resource string
	// Data is the JSON of what changed: for users and groups the resource
	// as the SCIM API returns it, without a group's members or a user's
	// groups; for a member added or removed, the group and the member.
	Data json.RawMessage
	// Previous holds, for an update, the changed attributes' values
	// before it (JSON null for one that had none); nil otherwise.
	Previous json.RawMessage
	Context  EventContext
}

// EventContext says what made a change: the source (one of the Source
// constants), the request and the credential's name.
type EventContext struct {
	Source    string `json:"source"`
	RequestID string `json:"request_id,omitempty"`
	Token     string `json:"token,omitempty"`
}

// The sources of changes.
const (
	SourceSCIM = "scim" // a SCIM request
	SourceBulk = "bulk" // an operation of a SCIM Bulk request
	SourceSync = "sync" // the sync engine (roster sync) writing into Roster
	SourceCLI  = "cli"  // a roster command run against the database
	SourceAPI  = "api"  // the management API
	// SourceConsole is the web console; the context's Token is the
	// admin's name.
	SourceConsole = "console"
)

type eventContextKey struct{}

// WithEventContext returns ctx carrying ec, which the store records in
// the events of the changes made with it.
func WithEventContext(ctx context.Context, ec EventContext) context.Context {
	return context.WithValue(ctx, eventContextKey{}, ec)
}

// EventContextOf returns the EventContext ctx carries; its Source is
// "internal" when it carries none.
func EventContextOf(ctx context.Context) EventContext {
	ec, ok := ctx.Value(eventContextKey{}).(EventContext)
	if !ok || ec.Source == "" {
		ec.Source = "internal"
	}
	return ec
}

// eventJSON is how an event is written: the payload of the events API,
// webhooks and the stream.
type eventJSON struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Directory string          `json:"directory"`
	Seq       int64           `json:"seq"`
	Time      time.Time       `json:"time"`
	Data      json.RawMessage `json:"data"`
	Previous  json.RawMessage `json:"previous_attributes,omitempty"`
	Context   EventContext    `json:"context"`
}

// MarshalJSON writes the event as the events API, webhooks and the
// stream carry it: {id, type, directory, seq, time, data,
// previous_attributes, context}.
func (e Event) MarshalJSON() ([]byte, error) {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	return json.Marshal(eventJSON{ID: e.ID, Type: e.Type, Directory: e.Directory, Seq: e.Seq, Time: e.Time.UTC(),
		Data: data, Previous: e.Previous, Context: e.Context})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Event) UnmarshalJSON(b []byte) error {
	var j eventJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Event{ID: j.ID, Type: j.Type, Directory: j.Directory, Seq: j.Seq, Time: j.Time,
		Data: j.Data, Previous: j.Previous, Context: j.Context}
	return nil
}

// EventQuery selects events of one directory.
type EventQuery struct {
	Directory string
	// After is the Seq to read after (0: from the first kept).
	After int64
	// Types, when not empty, keeps only events of these types.
	Types []string
	// Through, when above 0, is the newest Seq to read: a reader of a few
	// types bounds with it how many events the store looks through (see
	// package event's ReadPage), since however few of them match, the
	// store reads every event from After on until Limit do.
	Through int64
	// Limit is the most events to return (at least 1).
	Limit int
}

// Events keeps the events of directories.
type Events interface {
	// Events returns the events the query selects, in Seq order.
	Events(ctx context.Context, q EventQuery) ([]Event, error)
	// LastEventSeq returns the Seq of the newest event of a directory (0
	// if it has none): a reader that wants only what happens from now on
	// starts after it.
	LastEventSeq(ctx context.Context, dir string) (int64, error)
	// PruneEvents deletes at most limit events older than before, except
	// each directory's newest, and returns how many it deleted; a caller
	// repeats it until it deletes fewer than limit, so that no one
	// transaction holds writers long.
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
	// EventsWritten returns a channel that is closed when this store
	// next commits a change with events. It tells only of this
	// process's changes: a reader polls too, for other processes'.
	EventsWritten() <-chan struct{}
}
