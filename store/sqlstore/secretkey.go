package sqlstore

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// Signing keys sign access tokens and cursors; whoever reads one can mint
// tokens for every directory. With a SecretKey a Store keeps them
// encrypted (AES-256-GCM), so that the database alone, a dump or a backup
// of it, gives nobody that power.
//
// A stored key is either clear, exactly keyBytes bytes as versions before
// encryption wrote them, or sealed: sealedPrefix, the secret key's id, ':',
// a nonce and the ciphertext, whose additional data is the key's id (a
// sealed key copied onto another row does not open). The lengths tell
// them apart, whatever bytes a clear key starts with.

// MinSecretKeyLength is the fewest bytes a secret key's text may have.
const MinSecretKeyLength = 32

const (
	keyBytes     = 32 // a signing key: HMAC-SHA256
	sealedPrefix = "enc1:"
	secretIDLen  = 8 // hex digits of SecretKey.ID
)

// ErrNoSecretKey is the error of reading a sealed signing key from a Store
// that has no secret key.
var ErrNoSecretKey = errors.New("sqlstore: no secret key to decrypt it")

// ErrWrongSecretKey is the error of reading a sealed signing key that the
// Store's secret key does not open: another key sealed it, or the stored
// value was altered.
var ErrWrongSecretKey = errors.New("sqlstore: wrong secret key")

// SecretKey encrypts the signing keys a Store keeps (see WithSecretKey).
type SecretKey struct {
	aead cipher.AEAD
	id   string
}

// NewSecretKey returns the secret key of secret, a text of at least
// MinSecretKeyLength bytes (such as 32 random bytes in base64: openssl
// rand -base64 32). The AES-256 key is derived from it with HKDF-SHA256.
func NewSecretKey(secret []byte) (*SecretKey, error) {
	if len(secret) < MinSecretKeyLength {
		return nil, fmt.Errorf("sqlstore: a secret key must be at least %d bytes long, not %d", MinSecretKeyLength, len(secret))
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "roster signing keys aes-256-gcm", 32)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: secret key: %w", err)
	}
	id, err := hkdf.Key(sha256.New, secret, nil, "roster secret key id", secretIDLen/2)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: secret key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: secret key: %w", err)
	}
	return &SecretKey{aead: aead, id: hex.EncodeToString(id)}, nil
}

// ID names the secret key without revealing it: the stored keys it sealed
// carry it, and errors say which key a stored key needs.
func (k *SecretKey) ID() string { return k.id }

// Option configures a Store.
type Option func(*Store)

// WithSecretKey makes the Store encrypt the signing keys it makes with k,
// and read those k sealed. Without it, a Store makes its keys in clear and
// cannot read sealed ones (ErrNoSecretKey). SealSigningKeys encrypts the
// keys kept in clear before.
func WithSecretKey(k *SecretKey) Option { return func(s *Store) { s.secret = k } }

// seal returns what the store keeps of the signing key kid: sealed with
// the secret key, or key itself without one.
func (s *Store) seal(kid string, key []byte) []byte {
	return s.sealFor(additionalData(kid), key)
}

// sealFor seals key, keyBytes long, bound to ad (what it is the key of),
// or returns it as it is without a secret key: the signing keys and the
// webhooks' secrets are kept alike.
func (s *Store) sealFor(ad, key []byte) []byte {
	if s.secret == nil {
		return key
	}
	out := make([]byte, 0, len(sealedPrefix)+secretIDLen+1+s.secret.aead.NonceSize()+len(key)+s.secret.aead.Overhead())
	out = append(append(append(out, sealedPrefix...), s.secret.id...), ':')
	nonce := make([]byte, s.secret.aead.NonceSize())
	rand.Read(nonce)
	out = append(out, nonce...)
	return s.secret.aead.Seal(out, nonce, key, ad)
}

// open returns the signing key kid from what the store keeps of it, and
// whether it was kept in clear.
func (s *Store) open(kid string, stored []byte) (key []byte, isClear bool, err error) {
	return s.openFor(additionalData(kid), stored)
}

// openFor opens what sealFor kept of a key bound to ad.
func (s *Store) openFor(ad, stored []byte) (key []byte, isClear bool, err error) {
	if len(stored) == keyBytes {
		return stored, true, nil
	}
	rest, ok := bytes.CutPrefix(stored, []byte(sealedPrefix))
	if !ok || len(rest) < secretIDLen+1 || rest[secretIDLen] != ':' {
		return nil, false, fmt.Errorf("the stored value (%d bytes) is neither a key nor an encrypted key", len(stored))
	}
	id, rest := string(rest[:secretIDLen]), rest[secretIDLen+1:]
	if s.secret == nil {
		return nil, false, fmt.Errorf("encrypted with secret key %s: %w", id, ErrNoSecretKey)
	}
	if id != s.secret.id {
		return nil, false, fmt.Errorf("encrypted with secret key %s, not with the store's %s: %w", id, s.secret.id, ErrWrongSecretKey)
	}
	n := s.secret.aead.NonceSize()
	if len(rest) < n {
		return nil, false, fmt.Errorf("the encrypted key is truncated: %w", ErrWrongSecretKey)
	}
	key, err = s.secret.aead.Open(nil, rest[:n], rest[n:], ad)
	if err != nil {
		return nil, false, fmt.Errorf("secret key %s does not decrypt it: the stored value was altered: %w", id, ErrWrongSecretKey)
	}
	return key, false, nil
}

func additionalData(kid string) []byte { return []byte("roster signing key " + kid) }

// SealSigningKeys encrypts with the store's secret key the signing keys
// kept in clear (as versions before encryption, or a store without a
// secret key, made them), and checks that it decrypts the others, failing
// with ErrWrongSecretKey if not. Without a secret key it does nothing.
// Stores call it when they open, so the first start with a secret key
// encrypts an existing database's keys, and a wrong key is found at once.
func (s *Store) SealSigningKeys(ctx context.Context) error {
	if s.secret == nil {
		return nil
	}
	plain, err := clearKeys(ctx, s.d.Reader(), s.open)
	if err != nil {
		return s.errorf("signing keys", err)
	}
	if len(plain) == 0 {
		return nil
	}
	err = s.inTx(ctx, func(tx Querier) error {
		if s.sql.LockSigningKeys != "" {
			if _, err := tx.Exec(ctx, s.sql.LockSigningKeys); err != nil {
				return err
			}
		}
		plain, err := clearKeys(ctx, tx, s.open) // again, under the lock
		if err != nil {
			return err
		}
		for kid, key := range plain {
			if _, err := tx.Exec(ctx, `UPDATE signing_keys SET key = $1 WHERE kid = $2`, s.seal(kid, key), kid); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.errorf("encrypt the signing keys", err)
	}
	return nil
}

// clearKeys reads every signing key with open, returning those kept in
// clear, and fails if one does not open.
func clearKeys(ctx context.Context, q Querier, open func(kid string, stored []byte) ([]byte, bool, error)) (map[string][]byte, error) {
	rows, err := q.Query(ctx, `SELECT kid, key FROM signing_keys`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	plain := make(map[string][]byte)
	for rows.Next() {
		var kid string
		var stored []byte
		if err := rows.Scan(&kid, &stored); err != nil {
			return nil, err
		}
		key, isClear, err := open(kid, stored)
		if err != nil {
			return nil, fmt.Errorf("signing key %q: %w", kid, err)
		}
		if isClear {
			plain[kid] = key
		}
	}
	return plain, rows.Err()
}
