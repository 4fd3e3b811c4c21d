package store

import (
	"context"
	"errors"
	"slices"
	"time"
)

// ErrLeaseLost is the error of reporting on a webhook cursor whose lease
// another worker has taken since (it expired): the report is dropped, and
// the worker stops delivering from that cursor.
var ErrLeaseLost = errors.New("webhook cursor lease lost")

// Webhook is an endpoint that events are delivered to.
type Webhook struct {
	ID  string
	URL string
	// Directory is the id of the directory whose events it receives, or
	// "" for every directory's.
	Directory string
	// Types are the event types it receives; empty means all.
	Types   []string
	Enabled bool
	// Disabled says why a webhook is not enabled when the delivery turned
	// it off (a 410 Gone); "" when it was turned off by hand.
	Disabled string
	Created  time.Time
	// Secret is the signing secret, "whsec_" and the key in base64.
	Secret string
	// PreviousSecret is the secret before the last rotation, which still
	// signs until PreviousUntil, so that a receiver can switch over.
	PreviousSecret string
	PreviousUntil  time.Time
}

// Secrets returns the secrets that sign a delivery at now: the current
// one, and the previous one during a rotation.
func (w Webhook) Secrets(now time.Time) []string {
	if w.PreviousSecret != "" && now.Before(w.PreviousUntil) {
		return []string{w.Secret, w.PreviousSecret}
	}
	return []string{w.Secret}
}

// Wants reports whether the webhook receives events of type t.
func (w Webhook) Wants(t string) bool {
	return len(w.Types) == 0 || slices.Contains(w.Types, t)
}

// WebhookSpec is what a new webhook is made of.
type WebhookSpec struct {
	URL string
	// Directory is the id or name of a directory, or "" for all.
	Directory string
	Types     []string
}

// WebhookUpdate changes a webhook: each field that is not nil.
type WebhookUpdate struct {
	URL     *string
	Types   *[]string
	Enabled *bool
}

// WebhookCursor is where the delivery of one webhook's events of one
// directory stands: the events after Seq are still to be delivered, one
// at a time, in order.
type WebhookCursor struct {
	Webhook   string
	Directory string
	// Seq is the last event acknowledged (a 2xx) or dead-lettered.
	Seq int64
	// Attempts is how many times the event after Seq was tried.
	Attempts int
	// Lease names the claim that holds the cursor; reports must carry it.
	Lease      string
	LeaseUntil time.Time
}

// DeliveryAttempt is one POST of an event to a webhook.
type DeliveryAttempt struct {
	Webhook, Directory string
	// Event is the event's id, Seq its seq.
	Event string
	Seq   int64
	// Attempt counts the tries of this event, from 1.
	Attempt int
	Time    time.Time
	// Status is the HTTP status of the answer; 0 when there was none.
	Status   int
	Duration time.Duration
	Error    string
	// Manual marks a redelivery asked for by hand.
	Manual bool
}

// DeadLetter is an event a webhook failed to take on every try: the
// delivery gave up on it and moved on.
type DeadLetter struct {
	Webhook, Directory, Event string
	Seq                       int64
	Time                      time.Time
	// Status and Error are those of the last attempt.
	Status   int
	Error    string
	Attempts int
}

// CursorReport is what a worker holding a cursor reports of its
// deliveries, in one transaction.
type CursorReport struct {
	// Attempts made since the last report, logged in order.
	Attempts []DeliveryAttempt
	// Seq is the new last event acknowledged or dead-lettered, Tries the
	// tries of the one after it, NextAttempt when to try it (the zero
	// time: at once).
	Seq         int64
	Tries       int
	NextAttempt time.Time
	// DeadLetters are the events given up on.
	DeadLetters []DeadLetter
	// Disable turns the webhook off with this reason (a 410 Gone).
	Disable string
	// Keep extends the lease by this much, for more deliveries; zero
	// releases the cursor.
	Keep time.Duration
}

// Webhooks keeps the endpoints events are delivered to, and where their
// delivery stands: a cursor per webhook and directory, the log of every
// attempt and the events given up on.
type Webhooks interface {
	// CreateWebhook makes a webhook with a new secret. Its delivery
	// starts after each directory's current LastEventSeq (events from now
	// on); a directory made later starts from its first event.
	CreateWebhook(ctx context.Context, spec WebhookSpec) (Webhook, error)
	// Webhook returns a webhook by id, with its secrets.
	Webhook(ctx context.Context, id string) (Webhook, error)
	// Webhooks returns every webhook in creation order.
	Webhooks(ctx context.Context) ([]Webhook, error)
	// UpdateWebhook changes a webhook; enabling it clears Disabled.
	UpdateWebhook(ctx context.Context, id string, u WebhookUpdate) (Webhook, error)
	// RotateWebhookSecret gives a webhook a new secret, keeping the one
	// it had signing beside it for overlap.
	RotateWebhookSecret(ctx context.Context, id string, overlap time.Duration) (Webhook, error)
	// DeleteWebhook deletes a webhook with its cursors, attempts and dead
	// letters.
	DeleteWebhook(ctx context.Context, id string) error

	// ClaimWebhookCursors leases to owner, for lease, up to limit cursors
	// of enabled webhooks that have an event to deliver and are due (past
	// their next attempt, their lease expired or none). No two claims get
	// the same cursor while its lease runs, across processes sharing the
	// database. Leases and due times are read on the caller's clock:
	// servers sharing a database keep their clocks in step (NTP), or one
	// running ahead takes over leases early.
	ClaimWebhookCursors(ctx context.Context, owner string, lease time.Duration, limit int) ([]WebhookCursor, error)
	// ReportWebhookCursor records what the holder of c did, and extends or
	// releases its lease; ErrLeaseLost if c's lease is no longer held.
	ReportWebhookCursor(ctx context.Context, c WebhookCursor, r CursorReport) error
	// WebhookCursors returns a webhook's cursors.
	WebhookCursors(ctx context.Context, webhook string) ([]WebhookCursor, error)
	// LogDeliveryAttempts records attempts made outside a cursor (manual
	// redeliveries).
	LogDeliveryAttempts(ctx context.Context, attempts []DeliveryAttempt) error
	// DeliveryAttempts returns a webhook's attempts, newest first, at most
	// limit.
	DeliveryAttempts(ctx context.Context, webhook string, limit int) ([]DeliveryAttempt, error)
	// DeadLetters returns a webhook's dead letters, newest first, at most
	// limit.
	DeadLetters(ctx context.Context, webhook string, limit int) ([]DeadLetter, error)
	// PruneDeliveryAttempts deletes at most limit attempts older than
	// before, returning how many; see PruneEvents.
	PruneDeliveryAttempts(ctx context.Context, before time.Time, limit int) (int, error)
}
