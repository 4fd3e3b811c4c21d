package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
	hash := store.HashSecret(secret)
	t := store.Token{ID: store.NewID(), DirectoryID: dir, Name: name, Created: time.Now().UTC(), Expires: expires.UTC()}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := directoryExists(ctx, tx, dir); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (id, directory_id, name, hash, created, expires) VALUES (?, ?, ?, ?, ?, ?)`,
			t.ID, dir, name, hash, t.Created.Format(timeFormat), nullTime(t.Expires))
		return err
	})
	if isUnique(err) {
		return store.Token{}, fmt.Errorf("sqlite: create token %q: the secret is in use: %w", name, store.ErrConflict)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("sqlite: create token %q: %w", name, err)
	}
	return t, nil
}

// Tokens implements store.Store.
func (s *Store) Tokens(ctx context.Context, dir string) ([]store.Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE directory_id = ? ORDER BY created, id`, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tokens: %w", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Token implements store.Store.
func (s *Store) Token(ctx context.Context, id string) (store.Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("sqlite: token %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("sqlite: token %q: %w", id, err)
	}
	return t, nil
}

// RevokeToken implements store.Store.
func (s *Store) RevokeToken(ctx context.Context, dir, idOrName string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE tokens SET revoked = 1 WHERE directory_id = ? AND (id = ? OR name = ?)`, dir, idOrName, idOrName)
	if err != nil {
		return fmt.Errorf("sqlite: revoke token %q: %w", idOrName, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: revoke token %q: %w", idOrName, store.ErrNotFound)
	}
	return nil
}

// Authenticate implements store.Store. The lookup is by hash, so the
// comparison never touches the secret itself.
func (s *Store) Authenticate(ctx context.Context, secret string) (store.Token, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, store.HashSecret(secret))
	t, err := scanToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, store.ErrUnauthorized
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("sqlite: authenticate: %w", err)
	}
	now := time.Now().UTC()
	if t.Revoked || !t.Expires.IsZero() && now.After(t.Expires) {
		return store.Token{}, store.ErrUnauthorized
	}
	// Record the use at most once a minute per token, not on every request.
	if now.Sub(t.LastUsed) > time.Minute {
		if _, err := s.w.ExecContext(ctx, `UPDATE tokens SET last_used = ? WHERE id = ?`, now.Format(timeFormat), t.ID); err != nil {
			return store.Token{}, fmt.Errorf("sqlite: authenticate: %w", err)
		}
		t.LastUsed = now
	}
	return t, nil
}

const tokenColumns = `id, directory_id, name, created, expires, last_used, revoked`

func scanToken(row scanner) (store.Token, error) {
	var t store.Token
	var created string
	var expires, lastUsed sql.NullString
	if err := row.Scan(&t.ID, &t.DirectoryID, &t.Name, &created, &expires, &lastUsed, &t.Revoked); err != nil {
		return t, err
	}
	t.Created, _ = time.Parse(timeFormat, created)
	if expires.Valid {
		t.Expires, _ = time.Parse(timeFormat, expires.String)
	}
	if lastUsed.Valid {
		t.LastUsed, _ = time.Parse(timeFormat, lastUsed.String)
	}
	return t, nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeFormat)
}
