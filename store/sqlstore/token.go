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

// CreateToken implements store.Store.
func (s *Store) CreateToken(ctx context.Context, dir, name string, expires time.Time) (store.Token, string, error) {
	secret, _ := store.NewSecret()
	t, err := s.ImportToken(ctx, dir, name, secret, expires)
	return t, secret, err
}

// ImportToken implements store.Store.
func (s *Store) ImportToken(ctx context.Context, dir, name, secret string, expires time.Time) (store.Token, error) {
	what := fmt.Sprintf("create token %q", name)
	if err := s.checkText(name); err != nil {
		return store.Token{}, s.errorf(what, err)
	}
	hash := store.HashSecret(secret)
	t := store.Token{ID: store.NewID(), DirectoryID: dir, Name: name, Created: s.d.Now()}
	if !expires.IsZero() {
		// Microseconds, which every dialect keeps, so that what is returned
		// is what is read back.
		t.Expires = expires.UTC().Truncate(time.Microsecond)
	}
	err := s.inTx(ctx, func(tx Querier) error {
		if err := s.directoryExists(ctx, tx, dir); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO tokens (id, directory_id, name, hash, created, expires) VALUES ($1, $2, $3, $4, $5, $6)`,
			t.ID, dir, name, hash, s.d.Time(t.Created), s.nullTime(t.Expires))
		if err != nil {
			return err
		}
		ev := s.newEvents(ctx, t.Created)
		ev.add(store.TokenCreated, dir, t.ID, tokenData(t), nil)
		return WriteEvents(ctx, tx, s.d, ev.list)
	})
	if s.d.IsUnique(err) {
		return store.Token{}, s.errorf(what+": the secret is in use", store.ErrConflict)
	}
	if err != nil {
		return store.Token{}, s.errorf(what, err)
	}
	return t, nil
}

// Tokens implements store.Store.
func (s *Store) Tokens(ctx context.Context, dir string) ([]store.Token, error) {
	if s.checkText(dir) != nil {
		return nil, nil
	}
	out, err := queryAll(ctx, s.d.Reader(), scanToken, `SELECT `+tokenColumns+` FROM tokens WHERE directory_id = $1 ORDER BY created, id`, dir)
	if err != nil {
		return nil, s.errorf("list tokens", err)
	}
	return out, nil
}

// Token implements store.Store.
func (s *Store) Token(ctx context.Context, id string) (store.Token, error) {
	what := fmt.Sprintf("token %q", id)
	if s.checkText(id) != nil {
		return store.Token{}, s.notFound(what)
	}
	t, err := scanToken(s.d.Reader().QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, s.notFound(what)
	}
	if err != nil {
		return t, s.errorf(what, err)
	}
	return t, nil
}

// RevokeToken implements store.Store.
func (s *Store) RevokeToken(ctx context.Context, dir, idOrName string) error {
	what := fmt.Sprintf("revoke token %q", idOrName)
	if s.checkText(dir, idOrName) != nil {
		return s.notFound(what)
	}
	err := s.inTx(ctx, func(tx Querier) error {
		revoked, err := queryAll(ctx, tx, scanToken, `UPDATE tokens SET revoked = true
			WHERE directory_id = $1 AND (id = $2 OR name = $2) AND NOT revoked RETURNING `+tokenColumns, dir, idOrName)
		if err != nil {
			return err
		}
		if len(revoked) == 0 {
			// None to revoke: it does not exist, or it was revoked before.
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM tokens WHERE directory_id = $1 AND (id = $2 OR name = $2) LIMIT 1`, dir, idOrName).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			return err
		}
		ev := s.newEvents(ctx, s.d.Now())
		for _, t := range revoked {
			ev.add(store.TokenRevoked, dir, t.ID, tokenData(t), nil)
		}
		return WriteEvents(ctx, tx, s.d, ev.list)
	})
	if err != nil {
		return s.errorf(what, err)
	}
	return nil
}

// tokenData is the data of a token's events: never its secret, nor its
// hash.
func tokenData(t store.Token) []byte {
	m := map[string]any{"id": t.ID, "name": t.Name, "directory": t.DirectoryID, "created": t.Created.UTC()}
	if !t.Expires.IsZero() {
		m["expires"] = t.Expires.UTC()
	}
	b, _ := json.Marshal(m)
	return b
}

// Authenticate implements store.Store. The lookup is by hash, so the
// comparison never touches the secret itself. The time of last use is
// written at most once a minute per token (by whichever server sees a use
// first), not on every request.
func (s *Store) Authenticate(ctx context.Context, secret string) (store.Token, error) {
	t, err := scanToken(s.d.Reader().QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, store.HashSecret(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, store.ErrUnauthorized
	}
	if err != nil {
		return store.Token{}, s.errorf("authenticate", err)
	}
	if t.LastUsed, err = s.use(ctx, "tokens", t.ID, t.Revoked, t.Expires, t.LastUsed); err != nil {
		return store.Token{}, err
	}
	return t, nil
}

// use checks a credential found by its hash in table (tokens,
// management_keys): ErrUnauthorized if it is revoked or expired. Else it
// records its use, at most once a minute (the condition makes servers that
// race here write once), and returns the time of last use to report.
func (s *Store) use(ctx context.Context, table, id string, revoked bool, expires, lastUsed time.Time) (time.Time, error) {
	now := s.d.Now()
	if revoked || !expires.IsZero() && now.After(expires) {
		return lastUsed, store.ErrUnauthorized
	}
	if now.Sub(lastUsed) <= time.Minute {
		return lastUsed, nil
	}
	if _, err := s.d.Writer().Exec(ctx, `UPDATE `+table+` SET last_used = $1 WHERE id = $2 AND (last_used IS NULL OR last_used < $3)`,
		s.d.Time(now), id, s.d.Time(now.Add(-time.Minute))); err != nil {
		return lastUsed, s.errorf("authenticate", err)
	}
	return now, nil
}

const tokenColumns = `id, directory_id, name, created, expires, last_used, revoked`

func scanToken(row Row) (store.Token, error) {
	var t store.Token
	var created, expires, lastUsed Time
	if err := row.Scan(&t.ID, &t.DirectoryID, &t.Name, &created, &expires, &lastUsed, &t.Revoked); err != nil {
		return t, err
	}
	t.Created, t.Expires, t.LastUsed = created.Time, expires.Time, lastUsed.Time
	return t, nil
}
