package server

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/rosterhq/roster/scim/resource"
)

// hashPassword replaces a cleartext password in r by a PBKDF2-SHA256 hash
// in the form $pbkdf2-sha256$<iterations>$<salt>$<key>, so that the store
// never holds the password itself.
func (s *server) hashPassword(r *resource.Resource) error {
	pw, ok := r.Attrs["password"].(string)
	if !ok {
		return nil
	}
	var salt [16]byte
	rand.Read(salt[:])
	key, err := pbkdf2.Key(sha256.New, pw, salt[:], s.PasswordIterations, 32)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	enc := base64.RawStdEncoding
	r.Attrs["password"] = fmt.Sprintf("$pbkdf2-sha256$%d$%s$%s", s.PasswordIterations, enc.EncodeToString(salt[:]), enc.EncodeToString(key))
	return nil
}
