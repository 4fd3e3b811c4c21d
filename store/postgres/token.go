package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/store"
)

// CreateToken implements store.Store.
func (s *Store) CreateToken(ctx context.Context, dir, name string, expires time.Time) (store.Token, string, error) {
	secret, _ := store.NewSecret()
	t, err := s.ImportToken(ctx, dir, name, secret, expires)
	return t, secret, err
}

// ImportToken implements store.Store.
func (s *Store) ImportToken(ctx context.Context, dir, name, secret string, expires time.Time) (store.Token, error) {
	if err := checkText(name); err != nil {
		return store.Token{}, fmt.Errorf("postgres: create token: %w", err)
	}
	hash := store.HashSecret(secret)
	t := store.Token{ID: store.NewID(), DirectoryID: dir, Name: name, Created: now()}
	if !expires.IsZero() {
		t.Expires = expires.UTC().Truncate(time.Microsecond)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := directoryExists(ctx, tx, dir); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO tokens (id, directory_id, name, hash, created, expires) VALUES ($1, $2, $3, $4, $5, $6)`,
			t.ID, dir, name, hash, t.Created, nullTime(t.Expires))
		return err
	})
	if isUnique(err) {
		return store.Token{}, fmt.Errorf("postgres: create token %q: the secret is in use: %w", name, store.ErrConflict)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("postgres: create token %q: %w", name, err)
	}
	return t, nil
}

// Tokens implements store.Store.
func (s *Store) Tokens(ctx context.Context, dir string) ([]store.Token, error) {
	if checkText(dir) != nil {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE directory_id = $1 ORDER BY created, id`, dir)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tokens: %w", classify(err))
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list tokens: %w", classify(err))
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list tokens: %w", classify(err))
	}
	return out, nil
}

// Token implements store.Store.
func (s *Store) Token(ctx context.Context, id string) (store.Token, error) {
	if checkText(id) != nil {
		return store.Token{}, fmt.Errorf("postgres: token %q: %w", id, store.ErrNotFound)
	}
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("postgres: token %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("postgres: token %q: %w", id, classify(err))
	}
	return t, nil
}

// RevokeToken implements store.Store.
func (s *Store) RevokeToken(ctx context.Context, dir, idOrName string) error {
	if checkText(dir) != nil || checkText(idOrName) != nil {
		return fmt.Errorf("postgres: revoke token %q: %w", idOrName, store.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE tokens SET revoked = true WHERE directory_id = $1 AND (id = $2 OR name = $2)`, dir, idOrName)
	if err != nil {
		return fmt.Errorf("postgres: revoke token %q: %w", idOrName, classify(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: revoke token %q: %w", idOrName, store.ErrNotFound)
	}
	return nil
}

// Authenticate implements store.Store. The lookup is by hash, so the
// comparison never touches the secret itself. The time of last use is
// written at most once a minute per token (by whichever server sees a use
// first), not on every request.
func (s *Store) Authenticate(ctx context.Context, secret string) (store.Token, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, store.HashSecret(secret))
	t, err := scanToken(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Token{}, store.ErrUnauthorized
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("postgres: authenticate: %w", classify(err))
	}
	n := now()
	if t.Revoked || !t.Expires.IsZero() && n.After(t.Expires) {
		return store.Token{}, store.ErrUnauthorized
	}
	if n.Sub(t.LastUsed) > time.Minute {
		// The condition makes servers that race here write once.
		if _, err := s.pool.Exec(ctx, `UPDATE tokens SET last_used = $1 WHERE id = $2 AND (last_used IS NULL OR last_used < $3)`,
			n, t.ID, n.Add(-time.Minute)); err != nil {
			return store.Token{}, fmt.Errorf("postgres: authenticate: %w", classify(err))
		}
		t.LastUsed = n
	}
	return t, nil
}

const tokenColumns = `id, directory_id, name, created, expires, last_used, revoked`

func scanToken(row pgx.Row) (store.Token, error) {
	var t store.Token
	var expires, lastUsed *time.Time
	if err := row.Scan(&t.ID, &t.DirectoryID, &t.Name, &t.Created, &expires, &lastUsed, &t.Revoked); err != nil {
		return t, err
	}
	t.Created = t.Created.UTC()
	if expires != nil {
		t.Expires = expires.UTC()
	}
	if lastUsed != nil {
		t.LastUsed = lastUsed.UTC()
	}
	return t, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
