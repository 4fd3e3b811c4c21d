package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"
)

// ManagementKey is a key of the management API (/api/v1), without its
// secret. Management keys and directories' SCIM tokens are kept apart: a
// SCIM token never authenticates to the management API, and a
// management key never to SCIM.
type ManagementKey struct {
	ID       string
	Name     string
	Created  time.Time
	Expires  time.Time // zero: never
	LastUsed time.Time // zero: never used
	Revoked  bool
}

// managementKeyPrefix marks management keys, so that a secret scanner or
// a reader of a leaked log tells them from SCIM tokens (rst_).
const managementKeyPrefix = "rmk_"

// NewManagementSecret returns a new random management key (256 bits) and
// the hash a store keeps of it.
func NewManagementSecret() (secret, hash string) {
	var b [32]byte
	rand.Read(b[:])
	secret = managementKeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashSecret(secret)
}

// ManagementKeys keeps the keys of the management API.
type ManagementKeys interface {
	// CreateManagementKey makes a key and returns it with its secret,
	// which the store does not keep (only its hash). Names are unique
	// (ErrConflict). A zero expires means the key does not expire.
	CreateManagementKey(ctx context.Context, name string, expires time.Time) (ManagementKey, string, error)
	// ManagementKeys returns the keys, revoked ones too, without secrets.
	ManagementKeys(ctx context.Context) ([]ManagementKey, error)
	// RevokeManagementKey revokes a key by id or name (ErrNotFound).
	RevokeManagementKey(ctx context.Context, idOrName string) error
	// AuthenticateManagementKey returns the key whose secret this is,
	// recording its use; ErrUnauthorized if it is unknown, expired or
	// revoked.
	AuthenticateManagementKey(ctx context.Context, secret string) (ManagementKey, error)
}
