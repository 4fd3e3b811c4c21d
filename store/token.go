package store

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// ErrUnauthorized: a token that is unknown, expired or revoked.
var ErrUnauthorized = errors.New("unauthorized")

// Token is a bearer token of a directory, without its secret.
type Token struct {
	ID          string
	DirectoryID string
	Name        string
	Created     time.Time
	Expires     time.Time // zero: never
	LastUsed    time.Time // zero: never used
	Revoked     bool
}

// tokenPrefix marks Roster's opaque tokens, so that they are easy to spot
// in a secret scanner or a leaked log.
const tokenPrefix = "rst_"

// NewSecret returns a new random opaque token (256 bits) and the hash a
// store keeps of it.
func NewSecret() (secret, hash string) {
	var b [32]byte
	rand.Read(b[:])
	secret = tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashSecret(secret)
}

// HashSecret returns the hash a store keeps of a token. Tokens are
// high-entropy random values, so SHA-256 is enough: there is nothing to
// guess that a slow hash would protect.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	return hex.EncodeToString(sum[:])
}

// SecretMatches reports whether secret is the one whose hash (see
// HashSecret) a store keeps, comparing the hashes in constant time.
func SecretMatches(hash, secret string) bool {
	return subtle.ConstantTimeCompare([]byte(hash), []byte(HashSecret(secret))) == 1
}
