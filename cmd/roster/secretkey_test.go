package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/store/sqlstore"
)

// startServe runs `roster serve` with args and the environment e on a
// loopback port until the test ends, and returns its log once it serves,
// or its error if it does not start.
func startServe(t *testing.T, e getenv, args ...string) (*syncBuffer, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(cancel)
	logs := &syncBuffer{}
	cmd := newRootCommand(e)
	cmd.SetOut(io.Discard)
	cmd.SetErr(logs)
	cmd.SetArgs(append([]string{"serve", "--addr", "127.0.0.1:0"}, args...))
	done := make(chan error, 1)
	wg.Go(func() { done <- cmd.ExecuteContext(ctx) })
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "serving SCIM") {
		select {
		case err := <-done:
			if err == nil {
				err = errors.New("serve returned without error")
			}
			return logs, err
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", logs.String())
		}
	}
	return logs, nil
}

// storedKeys returns the signing keys as the SQLite file at db keeps them.
func storedKeys(t *testing.T, db string) [][]byte {
	t.Helper()
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(`SELECT key FROM signing_keys`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var k []byte
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	return out
}

// TestServeOnSQLiteMakesASecretKeyFile: a first `roster serve` on SQLite
// makes roster.key beside roster.db (0600) and says so; the CLI's signing
// keys are then encrypted with it; without it, signing fails with a clear
// error, and serve does not make another key in its place.
func TestServeOnSQLiteMakesASecretKeyFile(t *testing.T) {
	db := newDB(t) // as an older roster serve left it, without a key file
	dir := filepath.Dir(db)
	keyFile := filepath.Join(dir, "roster.key")

	// Before any serve, a CLI signing key is kept in clear, as before.
	run(t, "directory", "create", "acme", "--db", db)
	if _, err := run(t, "token", "create", "--directory", "acme", "--name", "old", "--jwt", "--db", db); err != nil {
		t.Fatal(err)
	}
	if keys := storedKeys(t, db); len(keys) != 1 || len(keys[0]) != 32 {
		t.Fatalf("stored keys %x, want one in clear", keys)
	}

	t.Run("the first serve makes the key file and encrypts the keys", func(t *testing.T) {
		logs, err := startServe(t, noEnv, "--db", db)
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, logs)
		}
		fi, err := os.Stat(keyFile)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file %s: %v, %v; want mode 0600", keyFile, fi, err)
		}
		if !strings.Contains(logs.String(), keyFile) {
			t.Errorf("serve did not say where it made the key: %s", logs)
		}
	})
	for _, k := range storedKeys(t, db) {
		if !bytes.HasPrefix(k, []byte("enc1:")) {
			t.Fatalf("after serve a key is stored as %x, want it encrypted", k)
		}
	}
	// The CLI finds the key file beside the database.
	if _, err := run(t, "token", "create", "--directory", "acme", "--name", "new", "--jwt", "--db", db); err != nil {
		t.Fatal(err)
	}

	t.Run("a later serve uses the same file", func(t *testing.T) {
		before, _ := os.ReadFile(keyFile)
		logs, err := startServe(t, noEnv, "--db", db)
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, logs)
		}
		if after, _ := os.ReadFile(keyFile); !bytes.Equal(before, after) || strings.Contains(logs.String(), "made a secret key") {
			t.Fatalf("a second serve made another key: %s", logs)
		}
	})

	// Without the key file: signing says why, and serve refuses to start
	// rather than make a key that does not fit.
	moved := filepath.Join(dir, "elsewhere.key")
	if err := os.Rename(keyFile, moved); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "token", "create", "--directory", "acme", "--name", "lost", "--jwt", "--db", db)
	if !errors.Is(err, sqlstore.ErrNoSecretKey) || !strings.Contains(err.Error(), secretKeyEnv) {
		t.Fatalf("token create --jwt without the key: %q, %v; want ErrNoSecretKey naming %s", out, err, secretKeyEnv)
	}
	if logs, err := startServe(t, noEnv, "--db", db); !errors.Is(err, sqlstore.ErrWrongSecretKey) || !strings.Contains(err.Error(), keyFile) {
		t.Fatalf("serve without its key file: %v\n%s\nwant ErrWrongSecretKey naming %s", err, logs, keyFile)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("serve left a key file that does not fit: %v", err)
	}
	// Given the key by flag, it starts.
	if logs, err := startServe(t, noEnv, "--db", db, "--secret-key-file", moved); err != nil {
		t.Fatalf("serve --secret-key-file: %v\n%s", err, logs)
	}
}

func TestServeOnPostgresNeedsASecretKey(t *testing.T) {
	db := pgtest.New(t)
	if _, err := startServe(t, noEnv, "--db", db); err == nil || !strings.Contains(err.Error(), secretKeyEnv) {
		t.Fatalf("serve on PostgreSQL without a secret key: %v, want an error naming %s", err, secretKeyEnv)
	}
	if _, err := startServe(t, env{secretKeyEnv: "too short"}.get, "--db", db); err == nil || !strings.Contains(err.Error(), "32") {
		t.Fatalf("serve with a short key: %v, want an error", err)
	}
	withKey := env{secretKeyEnv: "a secret key that is 32 bytes or longer"}.get
	if logs, err := startServe(t, withKey, "--db", db); err != nil {
		t.Fatalf("serve with %s: %v\n%s", secretKeyEnv, err, logs)
	}
	file := filepath.Join(t.TempDir(), "key")
	os.WriteFile(file, []byte("another secret key, also 32 bytes or more\n"), 0o600)
	if _, err := startServe(t, withKey, "--db", db, "--secret-key-file", file); err == nil || !strings.Contains(err.Error(), "set one") {
		t.Fatalf("serve with both %s and --secret-key-file: %v, want an error", secretKeyEnv, err)
	}
}

func TestKeyFileBeside(t *testing.T) {
	for db, want := range map[string]string{
		"roster.db":          "roster.key",
		"/var/lib/x/data.db": "/var/lib/x/data.key",
		"data":               "data.key",
		"odd.key":            "odd.key.key",
	} {
		if got := keyFileBeside(db); got != want {
			t.Errorf("keyFileBeside(%q) = %q, want %q", db, got, want)
		}
	}
}

// token create --jwt on PostgreSQL refuses to run without the servers'
// secret key: it could make the first signing key, kept in clear.
func TestTokenCreateJWTOnPostgresNeedsTheSecretKey(t *testing.T) {
	db := pgtest.New(t)
	if out, err := run(t, "migrate", "--db", db); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if out, err := run(t, "directory", "create", "acme", "--db", db); err != nil {
		t.Fatalf("directory create: %v\n%s", err, out)
	}
	out, err := run(t, "token", "create", "--directory", "acme", "--jwt", "--db", db)
	if err == nil || !strings.Contains(err.Error(), secretKeyEnv) {
		t.Fatalf("token create --jwt without the key: %q, %v; want an error naming %s", out, err, secretKeyEnv)
	}
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var keys int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM signing_keys`).Scan(&keys); err != nil || keys != 0 {
		t.Fatalf("%d signing keys were made (%v), want none", keys, err)
	}
	if out, err := run(t, "token", "create", "--directory", "acme", "--db", db); err != nil {
		t.Fatalf("an opaque token needs no key: %v\n%s", err, out)
	}
}
