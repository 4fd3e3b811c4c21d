package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rosterhq/roster/store"
)

// Store is a store.Store and store.SyncHistory over a Dialect.
type Store struct {
	d      Dialect
	sql    *Statements
	secret *SecretKey // encrypts the signing keys; nil keeps them in clear
	// written wakes the readers of events after a change commits some.
	written signal
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.SyncHistory = (*Store)(nil)
)

// New returns a Store over the database d runs statements on, whose schema
// must be up to date, configured by opts.
func New(d Dialect, opts ...Option) *Store {
	s := &Store{d: d, sql: d.Statements()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// TimeFormat is how a database without a time type keeps times: UTC and
// fixed width, so that text order is time order.
const TimeFormat = "2006-01-02T15:04:05.000000000Z"

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.d.Ping(ctx); err != nil {
		return s.errorf("ping", err)
	}
	return nil
}

// Close implements store.Store.
func (s *Store) Close() error { return s.d.Close() }

// inTx runs fn in a write transaction of the dialect (see
// Dialect.InTx), then wakes the readers of events if it committed.
func (s *Store) inTx(ctx context.Context, fn func(tx Querier) error) error {
	err := s.d.InTx(ctx, fn)
	if err == nil {
		s.written.fire()
	}
	return err
}

// errorf wraps err with the dialect's name and what failed, marking the
// database being unreachable.
func (s *Store) errorf(what string, err error) error {
	return fmt.Errorf("%s: %s: %w", s.d.Name(), what, s.d.Classify(err))
}

// notFound returns the error for something that does not exist.
func (s *Store) notFound(what string) error {
	return fmt.Errorf("%s: %s: %w", s.d.Name(), what, store.ErrNotFound)
}

// checkText is the dialect's CheckText for each of texts.
func (s *Store) checkText(texts ...string) error {
	for _, t := range texts {
		if err := s.d.CheckText(t); err != nil {
			return err
		}
	}
	return nil
}

// CreateDirectory implements store.Store.
func (s *Store) CreateDirectory(ctx context.Context, name string) (store.Directory, error) {
	d := store.Directory{ID: store.NewID(), Name: name, Created: s.d.Now()}
	what := fmt.Sprintf("create directory %q", name)
	if err := s.checkText(name); err != nil {
		return store.Directory{}, err
	}
	if err := s.checkIndexed("the name", strings.ToLower(name)); err != nil {
		return store.Directory{}, err
	}
	err := s.inTx(ctx, func(tx Querier) error {
		_, err := tx.Exec(ctx, `INSERT INTO directories (id, name, name_key, created) VALUES ($1, $2, $3, $4)`,
			d.ID, d.Name, strings.ToLower(name), s.d.Time(d.Created))
		if err != nil {
			return err
		}
		if err := addWebhookCursors(ctx, tx, s.d, d.ID, d.Created); err != nil {
			return err
		}
		ev := s.newEvents(ctx, d.Created)
		ev.add(store.DirectoryCreated, d.ID, "", directoryData(d), nil)
		return WriteEvents(ctx, tx, s.d, ev.list)
	})
	if s.d.IsUnique(err) {
		return store.Directory{}, s.errorf(what, store.ErrConflict)
	}
	if err != nil {
		return store.Directory{}, s.errorf(what, err)
	}
	return d, nil
}

// Directory implements store.Store.
func (s *Store) Directory(ctx context.Context, idOrName string) (store.Directory, error) {
	what := fmt.Sprintf("directory %q", idOrName)
	if s.checkText(idOrName) != nil {
		return store.Directory{}, s.notFound(what)
	}
	// An id wins over a name, so that a directory named like another's id
	// cannot shadow it.
	d, err := scanDirectory(s.d.Reader().QueryRow(ctx, `SELECT id, name, created FROM directories WHERE id = $1 OR name_key = $2
		ORDER BY id = $1 DESC LIMIT 1`, idOrName, strings.ToLower(idOrName)))
	if errors.Is(err, sql.ErrNoRows) {
		return d, s.notFound(what)
	}
	if err != nil {
		return d, s.errorf(what, err)
	}
	return d, nil
}

// Directories implements store.Store.
func (s *Store) Directories(ctx context.Context) ([]store.Directory, error) {
	out, err := queryAll(ctx, s.d.Reader(), scanDirectory, s.sql.Directories)
	if err != nil {
		return nil, s.errorf("list directories", err)
	}
	return out, nil
}

// DeleteDirectory implements store.Store. Its users, groups, memberships,
// tokens and clients go with it (ON DELETE CASCADE); its events stay, the
// last of them directory.deleted, until they expire.
func (s *Store) DeleteDirectory(ctx context.Context, idOrName string) error {
	d, err := s.Directory(ctx, idOrName)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx Querier) error {
		// Memberships first: they reference resources, which reference the
		// directory; deleting them in that order keeps each cascade small.
		if _, err := tx.Exec(ctx, `DELETE FROM members WHERE directory_id = $1`, d.ID); err != nil {
			return err
		}
		n, err := tx.Exec(ctx, `DELETE FROM directories WHERE id = $1`, d.ID)
		if err == nil && n == 0 {
			err = store.ErrNotFound
		}
		if err != nil {
			return err
		}
		// Last, once the changes that were still writing to the
		// directory (the delete waited for them) have committed: it is the
		// directory's last event.
		ev := s.newEvents(ctx, s.d.Now())
		ev.add(store.DirectoryDeleted, d.ID, "", directoryData(d), nil)
		return WriteEvents(ctx, tx, s.d, ev.list)
	})
	if err != nil {
		return s.errorf(fmt.Sprintf("delete directory %q", idOrName), err)
	}
	return nil
}

// directoryData is the data of a directory's events.
func directoryData(d store.Directory) []byte {
	b, _ := json.Marshal(map[string]any{"id": d.ID, "name": d.Name, "created": d.Created.UTC()})
	return b
}

func scanDirectory(row Row) (store.Directory, error) {
	var d store.Directory
	var created Time
	err := row.Scan(&d.ID, &d.Name, &created)
	d.Created = created.Time
	return d, err
}

// queryAll runs a query and scans each row with scan.
func queryAll[T any](ctx context.Context, q Querier, scan func(Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// directoryExists returns store.ErrNotFound if there is no directory dir.
func (s *Store) directoryExists(ctx context.Context, tx Querier, dir string) error {
	var one int
	if s.checkText(dir) != nil {
		return fmt.Errorf("directory %q: %w", dir, store.ErrNotFound)
	}
	err := tx.QueryRow(ctx, `SELECT 1 FROM directories WHERE id = $1`, dir).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("directory %q: %w", dir, store.ErrNotFound)
	}
	return err
}

// Time scans a time column, NULL or not: a time.Time (PostgreSQL) or a
// text in TimeFormat (SQLite). A text that is not one fails the scan: a
// token whose expiry cannot be read must not be taken to never expire.
type Time struct {
	Time  time.Time
	Valid bool // false for NULL
}

// Scan implements sql.Scanner.
func (t *Time) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*t = Time{}
		return nil
	case time.Time:
		*t = Time{Time: v.UTC(), Valid: true}
		return nil
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	}
	return fmt.Errorf("sqlstore: a stored time is a %T, not a time", v)
}

func (t *Time) parse(s string) error {
	tm, err := time.Parse(TimeFormat, s)
	if err != nil {
		return fmt.Errorf("sqlstore: stored time %q: %w", s, err)
	}
	*t = Time{Time: tm, Valid: true}
	return nil
}

// nullTime is the argument for a time column that is NULL for the zero
// time.
func (s *Store) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.d.Time(t)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
