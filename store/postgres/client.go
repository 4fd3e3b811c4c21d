package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/store"
)

// CreateClient implements store.Store.
func (s *Store) CreateClient(ctx context.Context, dir, name string) (store.Client, string, error) {
	if err := checkText(name); err != nil {
		return store.Client{}, "", fmt.Errorf("postgres: create client: %w", err)
	}
	secret, hash := store.NewSecret()
	c := store.Client{ID: store.NewID(), DirectoryID: dir, Name: name, Created: now()}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := directoryExists(ctx, tx, dir); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO oauth_clients (id, directory_id, name, secret_hash, created) VALUES ($1, $2, $3, $4, $5)`,
			c.ID, dir, name, hash, c.Created)
		return err
	})
	if err != nil {
		return store.Client{}, "", fmt.Errorf("postgres: create client %q: %w", name, err)
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
	if checkText(id) != nil {
		return c, fmt.Errorf("postgres: client %q: %w", id, store.ErrNotFound)
	}
	err := s.pool.QueryRow(ctx, `SELECT id, directory_id, name, created, revoked, secret_hash FROM oauth_clients WHERE id = $1`, id).
		Scan(&c.ID, &c.DirectoryID, &c.Name, &c.Created, &c.Revoked, hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("postgres: client %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("postgres: client %q: %w", id, classify(err))
	}
	c.Created = c.Created.UTC()
	return c, nil
}

// RevokeClient implements store.Store.
func (s *Store) RevokeClient(ctx context.Context, dir, id string) error {
	if checkText(dir) != nil || checkText(id) != nil {
		return fmt.Errorf("postgres: revoke client %q: %w", id, store.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE oauth_clients SET revoked = true WHERE directory_id = $1 AND id = $2`, dir, id)
	if err != nil {
		return fmt.Errorf("postgres: revoke client %q: %w", id, classify(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: revoke client %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// signingKeyLock is the key of the transaction-level advisory lock that
// makes servers rotating the signing key at once make one key.
const signingKeyLock = 0x726f73746b6579

// CurrentSigningKey implements store.Store. The newest key is read
// without a lock; only a rotation takes the advisory lock (and reads
// again under it), so servers rotating at once make one key, and token
// requests do not queue behind each other.
func (s *Store) CurrentSigningKey(ctx context.Context, maxAge time.Duration) (store.SigningKey, error) {
	k, err := newestKey(ctx, s.pool)
	if err == nil && time.Since(k.Created) < maxAge {
		return k, nil
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return store.SigningKey{}, fmt.Errorf("postgres: signing key: %w", classify(err))
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, signingKeyLock); err != nil {
			return err
		}
		var err error
		k, err = newestKey(ctx, tx)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err == nil && time.Since(k.Created) < maxAge {
			return nil
		}
		k = store.SigningKey{ID: store.NewID(), Key: make([]byte, 32), Created: now()}
		rand.Read(k.Key)
		_, err = tx.Exec(ctx, `INSERT INTO signing_keys (kid, key, created) VALUES ($1, $2, $3)`, k.ID, k.Key, k.Created)
		return err
	})
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("postgres: signing key: %w", err)
	}
	return k, nil
}

// newestKey returns the newest signing key (pgx.ErrNoRows if none).
func newestKey(ctx context.Context, q querier) (store.SigningKey, error) {
	var k store.SigningKey
	err := q.QueryRow(ctx, `SELECT kid, key, created FROM signing_keys ORDER BY created DESC LIMIT 1`).Scan(&k.ID, &k.Key, &k.Created)
	k.Created = k.Created.UTC()
	return k, err
}

// SigningKey implements store.Store.
func (s *Store) SigningKey(ctx context.Context, id string) (store.SigningKey, error) {
	var k store.SigningKey
	if checkText(id) != nil {
		return k, fmt.Errorf("postgres: signing key %q: %w", id, store.ErrNotFound)
	}
	err := s.pool.QueryRow(ctx, `SELECT kid, key, created FROM signing_keys WHERE kid = $1`, id).Scan(&k.ID, &k.Key, &k.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, fmt.Errorf("postgres: signing key %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("postgres: signing key %q: %w", id, classify(err))
	}
	k.Created = k.Created.UTC()
	return k, nil
}
