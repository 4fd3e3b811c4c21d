package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rosterhq/roster/store"
)

// RecordRun implements store.SyncHistory.
func (s *Store) RecordRun(ctx context.Context, run store.SyncRun) (store.SyncRun, error) {
	if run.ID == "" {
		run.ID = store.NewID()
	}
	if err := s.checkText(run.Config, run.Status, run.Error); err != nil {
		return run, s.errorf("record sync run", err)
	}
	_, err := s.d.Writer().Exec(ctx, `INSERT INTO sync_runs (id, config, started, ended, status, error, summary, changes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, run.ID, run.Config, s.d.Time(run.Started), s.d.Time(run.Ended),
		run.Status, run.Error, jsonText(run.Summary), jsonText(run.Changes))
	if err != nil {
		return run, s.errorf("record sync run", err)
	}
	return run, nil
}

// SyncRuns implements store.SyncHistory.
func (s *Store) SyncRuns(ctx context.Context, config string, limit int) ([]store.SyncRun, error) {
	out, err := queryAll(ctx, s.d.Reader(), scanRun, `SELECT id, config, started, ended, status, error, summary, NULL FROM sync_runs
		WHERE $1 = '' OR config = $1 ORDER BY started DESC, id LIMIT $2`, config, max(limit, 1))
	if err != nil {
		return nil, s.errorf("sync runs", err)
	}
	return out, nil
}

// SyncRun implements store.SyncHistory.
func (s *Store) SyncRun(ctx context.Context, id string) (store.SyncRun, error) {
	what := fmt.Sprintf("sync run %q", id)
	if s.checkText(id) != nil {
		return store.SyncRun{}, s.notFound(what)
	}
	r, err := scanRun(s.d.Reader().QueryRow(ctx, `SELECT id, config, started, ended, status, error, summary, changes
		FROM sync_runs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, s.notFound(what)
	}
	if err != nil {
		return r, s.errorf(what, err)
	}
	return r, nil
}

func scanRun(row Row) (store.SyncRun, error) {
	var r store.SyncRun
	var started, ended Time
	var summary, changes []byte
	if err := row.Scan(&r.ID, &r.Config, &started, &ended, &r.Status, &r.Error, &summary, &changes); err != nil {
		return r, err
	}
	r.Started, r.Ended = started.Time, ended.Time
	r.Summary = summary
	if len(changes) > 0 {
		r.Changes = changes
	}
	return r, nil
}

// SaveSyncState implements store.SyncHistory.
func (s *Store) SaveSyncState(ctx context.Context, config string, saved time.Time, state json.RawMessage) error {
	if err := s.checkText(config); err != nil {
		return s.errorf("save sync state", err)
	}
	_, err := s.d.Writer().Exec(ctx, `INSERT INTO sync_state (config, saved, state) VALUES ($1, $2, $3)
		ON CONFLICT (config) DO UPDATE SET saved = excluded.saved, state = excluded.state`, config, s.d.Time(saved), jsonText(state))
	if err != nil {
		return s.errorf("save sync state", err)
	}
	return nil
}

// SyncState implements store.SyncHistory.
func (s *Store) SyncState(ctx context.Context, config string) (json.RawMessage, time.Time, error) {
	what := fmt.Sprintf("sync state of %q", config)
	if s.checkText(config) != nil {
		return nil, time.Time{}, s.notFound(what)
	}
	var saved Time
	var state []byte
	err := s.d.Reader().QueryRow(ctx, `SELECT saved, state FROM sync_state WHERE config = $1`, config).Scan(&saved, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, s.notFound(what)
	}
	if err != nil {
		return nil, time.Time{}, s.errorf(what, err)
	}
	return state, saved.Time, nil
}

func jsonText(b []byte) string {
	if len(b) == 0 {
		return "null"
	}
	return string(b)
}
