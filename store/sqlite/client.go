package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rosterhq/roster/store"
)

// CreateClient implements store.Store.
func (s *Store) CreateClient(ctx context.Context, dir, name string) (store.Client, string, error) {
	secret, hash := store.NewSecret()
	c := store.Client{ID: store.NewID(), DirectoryID: dir, Name: name, Created: time.Now().UTC()}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := directoryExists(ctx, tx, dir); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO oauth_clients (id, directory_id, name, secret_hash, created) VALUES (?, ?, ?, ?, ?)`,
			c.ID, dir, name, hash, c.Created.Format(timeFormat))
		return err
	})
	if err != nil {
		return store.Client{}, "", fmt.Errorf("sqlite: create client %q: %w", name, err)
	}
	return c, secret, nil
}

// AuthenticateClient implements store.Store. The hashes are compared in
// constant time.
func (s *Store) AuthenticateClient(ctx context.Context, id, secret string) (store.Client, error) {
	var hash string
	c, err := s.client(ctx, id, &hash)
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, store.ErrUnauthorized
	}
	if err != nil {
		return store.Client{}, err
	}
	if c.Revoked || !store.SecretMatches(hash, secret) {
		return store.Client{}, store.ErrUnauthorized
	}
	return c, nil
}

// Client implements store.Store.
func (s *Store) Client(ctx context.Context, id string) (store.Client, error) {
	var hash string
	return s.client(ctx, id, &hash)
}

func (s *Store) client(ctx context.Context, id string, hash *string) (store.Client, error) {
	var c store.Client
	var created string
	err := s.db.QueryRowContext(ctx, `SELECT id, directory_id, name, created, revoked, secret_hash FROM oauth_clients WHERE id = ?`, id).
		Scan(&c.ID, &c.DirectoryID, &c.Name, &created, &c.Revoked, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("sqlite: client %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("sqlite: client %q: %w", id, err)
	}
	c.Created, _ = time.Parse(timeFormat, created)
	return c, nil
}

// RevokeClient implements store.Store.
func (s *Store) RevokeClient(ctx context.Context, dir, id string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE oauth_clients SET revoked = 1 WHERE directory_id = ? AND id = ?`, dir, id)
	if err != nil {
		return fmt.Errorf("sqlite: revoke client %q: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: revoke client %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// CurrentSigningKey implements store.Store. The check and the insert run
// in one write transaction, so replicas rotating at once make one key.
func (s *Store) CurrentSigningKey(ctx context.Context, maxAge time.Duration) (store.SigningKey, error) {
	var k store.SigningKey
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var created string
		err := tx.QueryRowContext(ctx, `SELECT kid, key, created FROM signing_keys ORDER BY created DESC LIMIT 1`).Scan(&k.ID, &k.Key, &created)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		k.Created, _ = time.Parse(timeFormat, created)
		if err == nil && time.Since(k.Created) < maxAge {
			return nil
		}
		k = store.SigningKey{ID: store.NewID(), Key: make([]byte, 32), Created: time.Now().UTC()}
		rand.Read(k.Key)
		_, err = tx.ExecContext(ctx, `INSERT INTO signing_keys (kid, key, created) VALUES (?, ?, ?)`, k.ID, k.Key, k.Created.Format(timeFormat))
		return err
	})
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("sqlite: signing key: %w", err)
	}
	return k, nil
}

// SigningKey implements store.Store.
func (s *Store) SigningKey(ctx context.Context, id string) (store.SigningKey, error) {
	var k store.SigningKey
	var created string
	err := s.db.QueryRowContext(ctx, `SELECT kid, key, created FROM signing_keys WHERE kid = ?`, id).Scan(&k.ID, &k.Key, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return k, fmt.Errorf("sqlite: signing key %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("sqlite: signing key %q: %w", id, err)
	}
	k.Created, _ = time.Parse(timeFormat, created)
	return k, nil
}
