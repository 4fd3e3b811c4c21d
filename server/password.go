package server

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/store"
)

// pbkdf2Hasher returns a Config.HashPassword that hashes with
// PBKDF2-SHA256 in the form $pbkdf2-sha256$<iterations>$<salt>$<key>.
func pbkdf2Hasher(iterations int) func(string) (string, error) {
	return func(pw string) (string, error) {
		var salt [16]byte
		rand.Read(salt[:])
		key, err := pbkdf2.Key(sha256.New, pw, salt[:], iterations, 32)
		if err != nil {
			return "", fmt.Errorf("hash password: %w", err)
		}
		enc := base64.RawStdEncoding
		return fmt.Sprintf("$pbkdf2-sha256$%d$%s$%s", iterations, enc.EncodeToString(salt[:]), enc.EncodeToString(key)), nil
	}
}

// hashPassword replaces a cleartext password in r by its hash, so that the
// store never holds the password itself (see hash).
func (s *server) hashPassword(ctx context.Context, r *resource.Resource) error {
	pw, ok := r.Attrs["password"].(string)
	if !ok {
		return nil
	}
	h, err := s.hash(ctx, pw)
	if err != nil {
		return err
	}
	r.Attrs["password"] = h
	return nil
}

// hash returns the hash of a password. A hash costs a tenth of a second of
// CPU on purpose, so the server hashes at most PasswordHashers passwords
// at once; a request waits for its turn while its context lasts, and one
// whose client has gone hashes nothing.
func (s *server) hash(ctx context.Context, pw string) (string, error) {
	select {
	case s.hashers <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.hashers }()
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return s.HashPassword(pw)
}

// checkNameFree returns store.ErrConflict when the directory holds a
// resource of r's type with r's name (userName or displayName, compared
// as the store compares them for uniqueness), so that a create bound to
// fail costs no password hash. The store's constraint still decides: a
// create racing this one may take the name in between.
func (s *server) checkNameFree(ctx context.Context, dir string, r *resource.Resource) error {
	attr := store.NameAttr(r.Type)
	name, _ := r.Attrs[attr].(string)
	ref, err := r.Type.Resolve(attr)
	if name == "" || err != nil {
		return nil // the store answers what is wrong with it
	}
	f := &filter.Compare{Attr: filter.AttrPath{Name: attr, Ref: ref}, Op: filter.Eq, Value: name}
	page, err := s.Store.List(ctx, dir, store.Query{Type: r.Type, Filter: f}) // Count 0: the total only
	if err != nil {
		return err
	}
	if page.Total > 0 {
		return store.ErrConflict
	}
	return nil
}
