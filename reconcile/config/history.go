package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/rosterhq/roster/reconcile"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/database"
)

// History opens the database runs are recorded in; nil when the
// configuration names none. Close it when done.
func (c *Config) History(ctx context.Context) (History, error) {
	if c.Database == "" {
		return nil, nil
	}
	db := c.Database
	if f := database.File(db); f != "" {
		db = c.rel(f) // a relative path is the configuration's directory's
	}
	st, err := database.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	h, ok := st.(History)
	if !ok {
		st.Close()
		return nil, errors.New("sync config: the database keeps no sync history")
	}
	return h, nil
}

// History is a store that keeps sync runs.
type History interface {
	store.SyncHistory
	Close() error
}

// Record stores a run's outcome in h under the configuration's name.
func (c *Config) Record(ctx context.Context, h History, started time.Time, p *reconcile.Plan, res *reconcile.Result, runErr error) error {
	run := store.SyncRun{Config: c.Name, Started: started, Ended: time.Now(), Status: Status(res, runErr)}
	if runErr != nil {
		run.Error = runErr.Error()
	}
	summary := map[string]any{}
	if p != nil {
		summary["planned"] = p.Counts
		if len(p.Refused) > 0 {
			summary["refused"] = p.Refused
		}
	}
	var changes []reconcile.Failure
	if res != nil {
		summary["done"] = res.Done
		summary["failed"] = len(res.Failed)
		summary["failedByKind"] = res.FailedCounts
		changes = res.Changes
	}
	run.Summary, _ = json.Marshal(summary)
	run.Changes, _ = json.Marshal(changes)
	_, err := h.RecordRun(ctx, run)
	return err
}

// stateKey is what the database keeps this configuration's copy of the
// state under: its name and its target, so that a copy is never restored
// into a configuration of another target (by a name given twice, or a
// target changed).
func (c *Config) stateKey() string {
	return c.Name + " → " + targetKey(c.Target.URL)
}

// RestoreState writes the state the database keeps for this sync to the
// state file, when the file is missing (deleted, or a new machine): the
// users and groups the sync owns survive the file. It returns when that
// state was saved, or the zero time when it restored nothing. Call it
// holding the run's locks (Engine does), or it may restore a copy over a
// file another run is writing.
func (c *Config) RestoreState(ctx context.Context, h History) (time.Time, error) {
	_, err := os.Stat(c.State)
	if err == nil {
		return time.Time{}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, fmt.Errorf("sync state: %w", err)
	}
	state, saved, err := h.SyncState(ctx, c.stateKey())
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("sync state: read it from the database: %w", err)
	}
	if err := os.WriteFile(c.State, state, 0o600); err != nil {
		return time.Time{}, fmt.Errorf("sync state: restore it from the database: %w", err)
	}
	return saved, nil
}

// KeepState saves the state file in the database, if it differs from the
// copy kept there, for RestoreState. Call it holding the run's locks
// (Engine does, and keeps the copy in step with every save after).
func (c *Config) KeepState(ctx context.Context, h History) error {
	state, err := os.ReadFile(c.State)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sync state: %w", err)
	}
	return c.keepState(ctx, h, state)
}

// keepState saves state in the database unless the copy kept there is
// the same.
func (c *Config) keepState(ctx context.Context, h History, state []byte) error {
	kept, _, err := h.SyncState(ctx, c.stateKey())
	switch {
	case err == nil && bytes.Equal(kept, state):
		return nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("sync state: read the copy kept in the database: %w", err)
	}
	if err := h.SaveSyncState(ctx, c.stateKey(), time.Now().UTC(), state); err != nil {
		return fmt.Errorf("sync state: keep it in the database: %w", err)
	}
	return nil
}

// FindRun returns the run of this configuration whose id is id or
// starts with it, when one only does; store.ErrNotFound when none does.
func (c *Config) FindRun(ctx context.Context, h History, id string) (store.SyncRun, error) {
	// An exact id of another configuration's run is no run of this one.
	if r, err := h.SyncRun(ctx, id); err == nil && r.Config == c.Name {
		return r, nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.SyncRun{}, err
	}
	runs, err := h.SyncRuns(ctx, c.Name, maxRunsSearched)
	if err != nil {
		return store.SyncRun{}, err
	}
	var found []string
	for _, r := range runs {
		if id != "" && strings.HasPrefix(r.ID, id) {
			found = append(found, r.ID)
		}
	}
	switch len(found) {
	case 0:
		return store.SyncRun{}, fmt.Errorf("sync history: no run of %s has an id starting %q: %w", c.Name, id, store.ErrNotFound)
	case 1:
		return h.SyncRun(ctx, found[0])
	}
	return store.SyncRun{}, fmt.Errorf("sync history: %d runs of %s have ids starting %q (%s): give more of the id",
		len(found), c.Name, id, strings.Join(found[:min(len(found), 5)], ", "))
}

// maxRunsSearched is how many of a configuration's newest runs FindRun
// looks through for an id prefix.
const maxRunsSearched = 1000

// Status is a run's status for its history: ok, failed, refused, locked
// or error.
func Status(res *reconcile.Result, err error) string {
	switch {
	case errors.Is(err, reconcile.ErrRefused):
		return "refused"
	case errors.Is(err, reconcile.ErrLocked):
		return "locked"
	case res == nil && err != nil:
		return "error"
	case err != nil || len(res.Failed) > 0:
		return "failed"
	}
	return "ok"
}
