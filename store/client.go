package store

import "time"

// Client is an OAuth 2.0 client of a directory (client credentials grant,
// RFC 6749 §4.4), without its secret.
type Client struct {
	ID          string
	DirectoryID string
	Name        string
	Created     time.Time
	Revoked     bool
}

// SigningKey is a key that signs access tokens (HMAC-SHA256).
type SigningKey struct {
	ID      string // the JWT "kid"
	Key     []byte
	Created time.Time
}
