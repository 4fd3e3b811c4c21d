package sqlstore

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
	what := fmt.Sprintf("create client %q", name)
	if err := s.checkText(name); err != nil {
		return store.Client{}, "", s.errorf(what, err)
	}
	secret, hash := store.NewSecret()
	c := store.Client{ID: store.NewID(), DirectoryID: dir, Name: name, Created: s.d.Now()}
	err := s.inTx(ctx, func(tx Querier) error {
		if err := s.directoryExists(ctx, tx, dir); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO oauth_clients (id, directory_id, name, secret_hash, created) VALUES ($1, $2, $3, $4, $5)`,
			c.ID, dir, name, hash, s.d.Time(c.Created))
		return err
	})
	if err != nil {
		return store.Client{}, "", s.errorf(what, err)
	}
	return c, secret, nil
}

// AuthenticateClient implements store.Store. The hashes are compared in
// constant time.
func (s *Store) AuthenticateClient(ctx context.Context, id, secret string) (store.Client, error) {
	c, hash, err := s.client(ctx, id)
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
	c, _, err := s.client(ctx, id)
	return c, err
}

// Clients implements store.Store.
func (s *Store) Clients(ctx context.Context, dir string) ([]store.Client, error) {
	if s.checkText(dir) != nil {
		return nil, nil
	}
	out, err := queryAll(ctx, s.d.Reader(), func(row Row) (store.Client, error) {
		var c store.Client
		var created Time
		err := row.Scan(&c.ID, &c.DirectoryID, &c.Name, &created, &c.Revoked)
		c.Created = created.Time
		return c, err
	}, `SELECT id, directory_id, name, created, revoked FROM oauth_clients WHERE directory_id = $1 ORDER BY created, id`, dir)
	if err != nil {
		return nil, s.errorf("list clients", err)
	}
	return out, nil
}

// client returns a client and the hash of its secret.
func (s *Store) client(ctx context.Context, id string) (store.Client, string, error) {
	var c store.Client
	var hash string
	var created Time
	what := fmt.Sprintf("client %q", id)
	if s.checkText(id) != nil {
		return c, "", s.notFound(what)
	}
	err := s.d.Reader().QueryRow(ctx, `SELECT id, directory_id, name, created, revoked, secret_hash FROM oauth_clients WHERE id = $1`, id).
		Scan(&c.ID, &c.DirectoryID, &c.Name, &created, &c.Revoked, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return c, "", s.notFound(what)
	}
	if err != nil {
		return c, "", s.errorf(what, err)
	}
	c.Created = created.Time
	return c, hash, nil
}

// RevokeClient implements store.Store.
func (s *Store) RevokeClient(ctx context.Context, dir, id string) error {
	what := fmt.Sprintf("revoke client %q", id)
	if s.checkText(dir, id) != nil {
		return s.notFound(what)
	}
	n, err := s.d.Writer().Exec(ctx, `UPDATE oauth_clients SET revoked = true WHERE directory_id = $1 AND id = $2`, dir, id)
	if err != nil {
		return s.errorf(what, err)
	}
	if n == 0 {
		return s.notFound(what)
	}
	return nil
}

// CurrentSigningKey implements store.Store. The newest key is read
// without a lock; only a rotation takes the write transaction and the
// dialect's lock (and reads again under them), so servers rotating at
// once make one key, and token requests do not queue behind each other.
// A new key is sealed with the secret key, if the store has one; a sealed
// newest key that the store cannot open is an error, never a reason to
// make a new key.
func (s *Store) CurrentSigningKey(ctx context.Context, maxAge time.Duration) (store.SigningKey, error) {
	k, err := s.newestKey(ctx, s.d.Reader())
	if err == nil && time.Since(k.Created) < maxAge {
		if err := s.sealIfClear(ctx, k); err != nil {
			return store.SigningKey{}, err
		}
		return k.SigningKey, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return store.SigningKey{}, s.errorf("signing key", err)
	}
	err = s.inTx(ctx, func(tx Querier) error {
		if s.sql.LockSigningKeys != "" {
			if _, err := tx.Exec(ctx, s.sql.LockSigningKeys); err != nil {
				return err
			}
		}
		var err error
		k, err = s.newestKey(ctx, tx)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil && time.Since(k.Created) < maxAge {
			return nil
		}
		k = signingKey{SigningKey: store.SigningKey{ID: store.NewID(), Key: make([]byte, keyBytes), Created: s.d.Now()}}
		rand.Read(k.Key)
		_, err = tx.Exec(ctx, `INSERT INTO signing_keys (kid, key, created) VALUES ($1, $2, $3)`, k.ID, s.seal(k.ID, k.Key), s.d.Time(k.Created))
		return err
	})
	if err != nil {
		return store.SigningKey{}, s.errorf("signing key", err)
	}
	if err := s.sealIfClear(ctx, k); err != nil {
		return store.SigningKey{}, err
	}
	return k.SigningKey, nil
}

// signingKey is a signing key as read: opened, and whether it was kept
// in clear.
type signingKey struct {
	store.SigningKey
	clear bool
}

// newestKey returns the newest signing key (sql.ErrNoRows if none).
func (s *Store) newestKey(ctx context.Context, q Querier) (signingKey, error) {
	return s.scanKey(q.QueryRow(ctx, `SELECT kid, key, created FROM signing_keys ORDER BY created DESC LIMIT 1`))
}

// scanKey reads a signing key, opening it if it is sealed.
func (s *Store) scanKey(row Row) (signingKey, error) {
	var k signingKey
	var stored []byte
	var created Time
	if err := row.Scan(&k.ID, &stored, &created); err != nil {
		return k, err
	}
	key, clear, err := s.open(k.ID, stored)
	if err != nil {
		return signingKey{}, err
	}
	k.Key, k.Created, k.clear = key, created.Time, clear
	return k, nil
}

// SigningKey implements store.Store.
func (s *Store) SigningKey(ctx context.Context, id string) (store.SigningKey, error) {
	what := fmt.Sprintf("signing key %q", id)
	if s.checkText(id) != nil {
		return store.SigningKey{}, s.notFound(what)
	}
	k, err := s.scanKey(s.d.Reader().QueryRow(ctx, `SELECT kid, key, created FROM signing_keys WHERE kid = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.SigningKey{}, s.notFound(what)
	}
	if err != nil {
		return store.SigningKey{}, s.errorf(what, err)
	}
	if err := s.sealIfClear(ctx, k); err != nil {
		return store.SigningKey{}, err
	}
	return k.SigningKey, nil
}

// sealIfClear seals the signing keys kept in clear when k, just read, is
// one of them and the store has a secret key: a process without the key
// (a command run without it) may have made it after this store sealed
// the keys at its start, and a key in clear lets whoever reads the
// database sign tokens.
func (s *Store) sealIfClear(ctx context.Context, k signingKey) error {
	if s.secret == nil || !k.clear {
		return nil
	}
	return s.SealSigningKeys(ctx)
}
