package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rosterhq/roster/store"
)

const managementKeyColumns = `id, name, created, expires, last_used, revoked`

func scanManagementKey(row Row) (store.ManagementKey, error) {
	var k store.ManagementKey
	var created, expires, lastUsed Time
	if err := row.Scan(&k.ID, &k.Name, &created, &expires, &lastUsed, &k.Revoked); err != nil {
		return k, err
	}
	k.Created, k.Expires, k.LastUsed = created.Time, expires.Time, lastUsed.Time
	return k, nil
}

// CreateManagementKey implements store.ManagementKeys.
func (s *Store) CreateManagementKey(ctx context.Context, name string, expires time.Time) (store.ManagementKey, string, error) {
	what := fmt.Sprintf("create management key %q", name)
	if err := s.checkText(name); err != nil {
		return store.ManagementKey{}, "", s.errorf(what, err)
	}
	secret, hash := store.NewManagementSecret()
	k := store.ManagementKey{ID: store.NewID(), Name: name, Created: s.d.Now()}
	if !expires.IsZero() {
		k.Expires = expires.UTC().Truncate(time.Microsecond)
	}
	_, err := s.d.Writer().Exec(ctx, `INSERT INTO management_keys (id, name, hash, created, expires) VALUES ($1, $2, $3, $4, $5)`,
		k.ID, name, hash, s.d.Time(k.Created), s.nullTime(k.Expires))
	if s.d.IsUnique(err) {
		return store.ManagementKey{}, "", s.errorf(what+": the name is taken", store.ErrConflict)
	}
	if err != nil {
		return store.ManagementKey{}, "", s.errorf(what, err)
	}
	return k, secret, nil
}

// ManagementKeys implements store.ManagementKeys.
func (s *Store) ManagementKeys(ctx context.Context) ([]store.ManagementKey, error) {
	out, err := queryAll(ctx, s.d.Reader(), scanManagementKey, `SELECT `+managementKeyColumns+` FROM management_keys ORDER BY created, id`)
	if err != nil {
		return nil, s.errorf("list management keys", err)
	}
	return out, nil
}

// RevokeManagementKey implements store.ManagementKeys.
func (s *Store) RevokeManagementKey(ctx context.Context, idOrName string) error {
	what := fmt.Sprintf("revoke management key %q", idOrName)
	if s.checkText(idOrName) != nil {
		return s.notFound(what)
	}
	n, err := s.d.Writer().Exec(ctx, `UPDATE management_keys SET revoked = true WHERE id = $1 OR name = $1`, idOrName)
	if err != nil {
		return s.errorf(what, err)
	}
	if n == 0 {
		return s.notFound(what)
	}
	return nil
}

// AuthenticateManagementKey implements store.ManagementKeys. As for
// tokens, the lookup is by hash and the last use is written at most once
// a minute.
func (s *Store) AuthenticateManagementKey(ctx context.Context, secret string) (store.ManagementKey, error) {
	k, err := scanManagementKey(s.d.Reader().QueryRow(ctx, `SELECT `+managementKeyColumns+` FROM management_keys WHERE hash = $1`,
		store.HashSecret(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return store.ManagementKey{}, store.ErrUnauthorized
	}
	if err != nil {
		return store.ManagementKey{}, s.errorf("authenticate management key", err)
	}
	if k.LastUsed, err = s.use(ctx, "management_keys", k.ID, k.Revoked, k.Expires, k.LastUsed); err != nil {
		return store.ManagementKey{}, err
	}
	return k, nil
}
