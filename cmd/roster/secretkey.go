package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rosterhq/roster/store/database"
	"github.com/rosterhq/roster/store/sqlstore"
)

// The signing keys of access tokens are kept encrypted in the database
// with a secret key from outside it: the file --secret-key-file (or
// $ROSTER_SECRET_KEY_FILE) names, else $ROSTER_SECRET_KEY, else, for a
// SQLite database, the key file beside it (roster.key beside roster.db).
//
// A first `roster serve` on SQLite makes that file (0600) and says so: the
// one-command start keeps working, and the keys are never in clear, so
// the database file, a dump or a backup of it, is not enough to mint
// tokens. On PostgreSQL serve refuses to start without a key: replicas
// share the database, so a key made on one machine would not serve the
// others, and the database is exactly what the key protects against.

// secretKeyEnv and secretKeyFileEnv are the environment variables that
// give the secret key, or the file that holds it.
const (
	secretKeyEnv     = "ROSTER_SECRET_KEY"
	secretKeyFileEnv = "ROSTER_SECRET_KEY_FILE"
)

// secretKey is the secret key a command opens the database with, and
// where it came from.
type secretKey struct {
	key       *sqlstore.SecretKey // nil: none
	from      string              // "ROSTER_SECRET_KEY", or the file's path
	generated bool                // the file was made just now
	warning   string              // something to log about the file, or ""
}

// options returns the store options of the key.
func (k secretKey) options() []sqlstore.Option {
	if k.key == nil {
		return nil
	}
	return []sqlstore.Option{sqlstore.WithSecretKey(k.key)}
}

// loadSecretKey returns the secret key for the database db: from file if
// not empty, else from $ROSTER_SECRET_KEY (read through getenv), else from the key file beside a
// SQLite database. With create (roster serve), a SQLite database without
// one gets a new key file, and a PostgreSQL database without one is an
// error; without create, there may be no key.
func loadSecretKey(db, file string, getenv getenv, create bool) (secretKey, error) {
	env := getenv(secretKeyEnv)
	switch {
	case file != "" && env != "":
		return secretKey{}, fmt.Errorf("both %s and a secret key file (%s) are set: set one", secretKeyEnv, file)
	case file != "":
		return readSecretKeyFile(file)
	case env != "":
		k, err := sqlstore.NewSecretKey([]byte(strings.TrimSpace(env)))
		if err != nil {
			return secretKey{}, fmt.Errorf("%s: %w (make one with: openssl rand -base64 32)", secretKeyEnv, err)
		}
		return secretKey{key: k, from: secretKeyEnv}, nil
	}
	if database.KindOf(db) == database.PostgreSQL {
		if create {
			return secretKey{}, fmt.Errorf("roster serve on PostgreSQL needs a secret key to encrypt the signing keys in the database: "+
				"set %s (the same on every replica; make one with: openssl rand -base64 32) or --secret-key-file", secretKeyEnv)
		}
		return secretKey{}, nil
	}
	path := keyFileBeside(database.File(db))
	k, err := readSecretKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if !create {
			return secretKey{}, nil
		}
		return generateSecretKeyFile(path)
	}
	return k, err
}

// keyFileBeside returns the key file of the SQLite database at path: the
// same name with the extension .key (roster.db: roster.key).
func keyFileBeside(path string) string {
	k := strings.TrimSuffix(path, filepath.Ext(path)) + ".key"
	if k == path {
		k = path + ".key"
	}
	return k
}

// readSecretKeyFile reads a secret key from a file, ignoring surrounding
// white space, and warns if others may read it.
func readSecretKeyFile(path string) (secretKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return secretKey{}, fmt.Errorf("secret key: %w", err)
	}
	k, err := sqlstore.NewSecretKey(bytes.TrimSpace(b))
	if err != nil {
		return secretKey{}, fmt.Errorf("secret key file %s: %w", path, err)
	}
	sk := secretKey{key: k, from: path}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		sk.warning = fmt.Sprintf("others may read the secret key file (mode %v): chmod 600 %s", fi.Mode().Perm(), path)
	}
	return sk, nil
}

// generateSecretKeyFile makes a key file of 32 random bytes in base64,
// readable by its owner only. If another process made it meanwhile, it
// reads that one.
func generateSecretKeyFile(path string) (secretKey, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readSecretKeyFile(path)
	}
	if err != nil {
		return secretKey{}, fmt.Errorf("secret key: %w", err)
	}
	b := make([]byte, 32)
	rand.Read(b)
	text := base64.StdEncoding.EncodeToString(b)
	_, err = f.WriteString(text + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return secretKey{}, fmt.Errorf("secret key: write %s: %w", path, err)
	}
	k, err := sqlstore.NewSecretKey([]byte(text))
	if err != nil {
		return secretKey{}, err
	}
	return secretKey{key: k, from: path, generated: true}, nil
}

// explainKeyError adds to an error of opening the database with k what to
// do about a secret key that does not fit, and removes a key file made
// for it just now.
func explainKeyError(err error, db string, k secretKey) error {
	if k.generated {
		os.Remove(k.from)
	}
	switch {
	case errors.Is(err, sqlstore.ErrWrongSecretKey) && k.generated:
		return fmt.Errorf("%w\nThe signing keys in %s are encrypted with a secret key that is not here: %s was missing. "+
			"Restore it, or set %s or --secret-key-file to the key", err, database.Redact(db), k.from, secretKeyEnv)
	case errors.Is(err, sqlstore.ErrWrongSecretKey):
		return fmt.Errorf("%w\nThe secret key from %s is not the one that encrypted the signing keys in %s", err, k.from, database.Redact(db))
	case errors.Is(err, sqlstore.ErrNoSecretKey):
		return fmt.Errorf("%w\nThe signing keys in %s are encrypted: set %s or %s", err, database.Redact(db), secretKeyEnv, secretKeyFileEnv)
	}
	return err
}
