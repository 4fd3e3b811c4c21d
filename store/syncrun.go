package store

import (
	"context"
	"encoding/json"
	"time"
)

// SyncRun is one run of `roster sync`, kept as its history: when it ran,
// how it ended, and what it changed.
type SyncRun struct {
	ID string
	// Config names the sync (its configuration file), so that several
	// syncs can share one database.
	Config  string
	Started time.Time
	Ended   time.Time
	// Status is ok, failed (some changes failed), refused (mass changes),
	// locked (another run held the lock) or error (nothing changed).
	Status string
	Error  string
	// Summary is the run's counts and Changes every change tried with its
	// outcome, as JSON.
	Summary json.RawMessage
	Changes json.RawMessage
}

// SyncHistory keeps the history of sync runs. Both SQL stores implement
// it.
type SyncHistory interface {
	// RecordRun stores a run (its ID is assigned when empty).
	RecordRun(ctx context.Context, run SyncRun) (SyncRun, error)
	// SyncRuns returns the newest runs of a sync (all syncs when config is
	// ""), newest first, at most limit, without their Changes.
	SyncRuns(ctx context.Context, config string, limit int) ([]SyncRun, error)
	// SyncRun returns one run with its Changes.
	SyncRun(ctx context.Context, id string) (SyncRun, error)
	// SaveSyncState keeps a sync's state (JSON, returned byte for byte),
	// replacing the one kept before, so that the sync can have it back if
	// its state file is lost.
	SaveSyncState(ctx context.Context, config string, saved time.Time, state json.RawMessage) error
	// SyncState returns the state kept for a sync, and when it was saved;
	// ErrNotFound when none is.
	SyncState(ctx context.Context, config string) (json.RawMessage, time.Time, error)
}
