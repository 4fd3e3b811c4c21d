package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rosterhq/roster/store"
)

var _ store.SyncHistory = (*Store)(nil)

// RecordRun implements store.SyncHistory.
func (s *Store) RecordRun(ctx context.Context, run store.SyncRun) (store.SyncRun, error) {
	if run.ID == "" {
		run.ID = store.NewID()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO sync_runs (id, config, started, ended, status, error, summary, changes)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, run.ID, run.Config, run.Started.UTC().Format(timeFormat), run.Ended.UTC().Format(timeFormat),
		run.Status, run.Error, jsonText(run.Summary), jsonText(run.Changes))
	if err != nil {
		return run, fmt.Errorf("sqlite: record sync run: %w", err)
	}
	return run, nil
}

// SyncRuns implements store.SyncHistory.
func (s *Store) SyncRuns(ctx context.Context, config string, limit int) ([]store.SyncRun, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, config, started, ended, status, error, summary, '' FROM sync_runs
		WHERE ? = '' OR config = ? ORDER BY started DESC, id LIMIT ?`, config, config, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("sqlite: sync runs: %w", err)
	}
	defer rows.Close()
	var out []store.SyncRun
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: sync runs: %w", err)
		}
		r.Changes = nil
		out = append(out, r)
	}
	return out, rows.Err()
}

// SyncRun implements store.SyncHistory.
func (s *Store) SyncRun(ctx context.Context, id string) (store.SyncRun, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, `SELECT id, config, started, ended, status, error, summary, changes
		FROM sync_runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("sqlite: sync run %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("sqlite: sync run %q: %w", id, err)
	}
	return r, nil
}

func scanRun(row scanner) (store.SyncRun, error) {
	var r store.SyncRun
	var started, ended, summary, changes string
	if err := row.Scan(&r.ID, &r.Config, &started, &ended, &r.Status, &r.Error, &summary, &changes); err != nil {
		return r, err
	}
	r.Started, _ = time.Parse(timeFormat, started)
	r.Ended, _ = time.Parse(timeFormat, ended)
	r.Summary = []byte(summary)
	if changes != "" {
		r.Changes = []byte(changes)
	}
	return r, nil
}

func jsonText(b []byte) string {
	if len(b) == 0 {
		return "null"
	}
	return string(b)
}
