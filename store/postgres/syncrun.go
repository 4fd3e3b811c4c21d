package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/store"
)

var _ store.SyncHistory = (*Store)(nil)

// RecordRun implements store.SyncHistory.
func (s *Store) RecordRun(ctx context.Context, run store.SyncRun) (store.SyncRun, error) {
	if run.ID == "" {
		run.ID = store.NewID()
	}
	if err := checkText(run.Config + run.Status + run.Error); err != nil {
		return run, fmt.Errorf("postgres: record sync run: %w", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO sync_runs (id, config, started, ended, status, error, summary, changes)
		VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb)`, run.ID, run.Config, run.Started, run.Ended,
		run.Status, run.Error, jsonText(run.Summary), jsonText(run.Changes))
	if err != nil {
		return run, fmt.Errorf("postgres: record sync run: %w", classify(err))
	}
	return run, nil
}

// SyncRuns implements store.SyncHistory.
func (s *Store) SyncRuns(ctx context.Context, config string, limit int) ([]store.SyncRun, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, config, started, ended, status, error, summary::text, '' FROM sync_runs
		WHERE $1 = '' OR config = $1 ORDER BY started DESC, id LIMIT $2`, config, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("postgres: sync runs: %w", classify(err))
	}
	defer rows.Close()
	var out []store.SyncRun
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: sync runs: %w", classify(err))
		}
		r.Changes = nil
		out = append(out, r)
	}
	return out, rows.Err()
}

// SyncRun implements store.SyncHistory.
func (s *Store) SyncRun(ctx context.Context, id string) (store.SyncRun, error) {
	if checkText(id) != nil {
		return store.SyncRun{}, fmt.Errorf("postgres: sync run %q: %w", id, store.ErrNotFound)
	}
	r, err := scanRun(s.pool.QueryRow(ctx, `SELECT id, config, started, ended, status, error, summary::text, changes::text
		FROM sync_runs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("postgres: sync run %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("postgres: sync run %q: %w", id, classify(err))
	}
	return r, nil
}

func scanRun(row pgx.Row) (store.SyncRun, error) {
	var r store.SyncRun
	var summary, changes string
	if err := row.Scan(&r.ID, &r.Config, &r.Started, &r.Ended, &r.Status, &r.Error, &summary, &changes); err != nil {
		return r, err
	}
	r.Started, r.Ended = r.Started.UTC(), r.Ended.UTC()
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
