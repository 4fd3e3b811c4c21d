package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/database"
	"github.com/rosterhq/roster/store/sqlstore"
)

// storeLocation returns where a store of the kind forEachStore's subtest
// names lives: a fresh PostgreSQL database's URL, or a SQLite file's path,
// for tests that open it more than once.
func storeLocation(t *testing.T) string {
	t.Helper()
	if slices.Contains(strings.Split(t.Name(), "/"), "postgres") {
		return pgtest.New(t)
	}
	return filepath.Join(t.TempDir(), "roster.db")
}

// storedSigningKeys returns the key column of the signing_keys table at
// loc, as anyone who reads the database sees it.
func storedSigningKeys(t *testing.T, loc string) map[string][]byte {
	t.Helper()
	driver := "sqlite"
	if database.KindOf(loc) == database.PostgreSQL {
		driver = "pgx" // registered by pgx's stdlib, which the store's migrations use
	}
	db, err := sql.Open(driver, loc)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), `SELECT kid, key FROM signing_keys`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var kid string
		var key []byte
		if err := rows.Scan(&kid, &key); err != nil {
			t.Fatal(err)
		}
		out[kid] = key
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func secretKey(t *testing.T, secret string) *sqlstore.SecretKey {
	t.Helper()
	k, err := sqlstore.NewSecretKey([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// serveStore opens the store at loc with opts and serves it on a loopback
// port, returning its SCIM base URL and a client of the server (with a
// transport of its own, not http.DefaultTransport: see newAPI).
func serveStore(t *testing.T, loc string, opts ...sqlstore.Option) (store.Store, string, *http.Client) {
	t.Helper()
	st, err := database.Open(context.Background(), loc, opts...)
	if err != nil {
		t.Fatalf("open %s: %v", loc, err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewServer(server.New(server.Config{Store: st, RateLimit: -1}))
	t.Cleanup(srv.Close)
	return st, srv.URL + server.BasePath, srv.Client()
}

// getUsers answers the status of GET /Users with the bearer token, sent
// by client.
func getUsers(t *testing.T, client *http.Client, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/Users", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSigningKeysAreEncryptedAtRest: with a secret key, the signing keys
// in the database are encrypted (those kept in clear before are encrypted
// when the store opens), JWTs signed before still verify, and a wrong or
// missing secret key is a clear error, never a key made anew.
func TestSigningKeysAreEncryptedAtRest(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		ctx := context.Background()
		loc := storeLocation(t)
		key := secretKey(t, "correct horse battery staple, 32+ bytes")

		// A database from before encryption: its key is kept in clear.
		old, err := database.Open(ctx, loc)
		if err != nil {
			t.Fatal(err)
		}
		dir, err := old.CreateDirectory(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := old.CreateToken(ctx, dir.ID, "jwt", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		before, err := server.IssueJWT(ctx, old, dir.ID, "token:"+tok.ID, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		clear, err := old.CurrentSigningKey(ctx, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if got := storedSigningKeys(t, loc)[clear.ID]; !bytes.Equal(got, clear.Key) {
			t.Fatalf("without a secret key the stored key is %x, want it in clear", got)
		}
		old.Close()

		// The first start with a secret key encrypts it; the JWT signed
		// before still verifies, and so does one signed now.
		st, base, client := serveStore(t, loc, sqlstore.WithSecretKey(key))
		if got := getUsers(t, client, base, before); got != 200 {
			t.Fatalf("a JWT signed before encryption answered %d, want 200", got)
		}
		now, err := server.IssueJWT(ctx, st, dir.ID, "token:"+tok.ID, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got := getUsers(t, client, base, now); got != 200 {
			t.Fatalf("a JWT signed after encryption answered %d, want 200", got)
		}
		// A new key is made encrypted too.
		rotated, err := st.CurrentSigningKey(ctx, time.Nanosecond)
		if err != nil {
			t.Fatal(err)
		}
		stored := storedSigningKeys(t, loc)
		if len(stored) != 2 {
			t.Fatalf("%d signing keys stored, want 2", len(stored))
		}
		for kid, k := range map[string][]byte{clear.ID: clear.Key, rotated.ID: rotated.Key} {
			if got := stored[kid]; len(got) == 0 || bytes.Contains(got, k) || !bytes.HasPrefix(got, []byte("enc1:"+key.ID()+":")) {
				t.Errorf("signing key %s is stored as %x, want it encrypted with secret key %s", kid, got, key.ID())
			}
		}
		st.Close()

		// A wrong secret key fails the opening, naming both keys.
		wrong := secretKey(t, "another secret key of 32 bytes or more")
		_, err = database.Open(ctx, loc, sqlstore.WithSecretKey(wrong))
		if !errors.Is(err, sqlstore.ErrWrongSecretKey) || !strings.Contains(err.Error(), key.ID()) || !strings.Contains(err.Error(), wrong.ID()) {
			t.Fatalf("opening with a wrong secret key: %v, want ErrWrongSecretKey naming %s and %s", err, key.ID(), wrong.ID())
		}
		// Without one, the store opens, but reading a key says why it
		// cannot, and the server answers a JWT with its own error, not 401,
		// and makes no new key in clear.
		none, base, client := serveStore(t, loc)
		if _, err := none.SigningKey(ctx, clear.ID); !errors.Is(err, sqlstore.ErrNoSecretKey) || !strings.Contains(err.Error(), key.ID()) {
			t.Fatalf("reading an encrypted key without a secret key: %v, want ErrNoSecretKey naming %s", err, key.ID())
		}
		if _, err := none.CurrentSigningKey(ctx, time.Nanosecond); !errors.Is(err, sqlstore.ErrNoSecretKey) {
			t.Fatalf("rotating without a secret key: %v, want ErrNoSecretKey", err)
		}
		if got := getUsers(t, client, base, before); got != 500 {
			t.Fatalf("a JWT on a server without the secret key answered %d, want 500", got)
		}
		if n := len(storedSigningKeys(t, loc)); n != 2 {
			t.Fatalf("%d signing keys stored, want still 2", n)
		}
	})
}

func TestSecretKeysAreLongEnough(t *testing.T) {
	for _, c := range []struct {
		secret string
		ok     bool
	}{
		{"", false},
		{"short", false},
		{strings.Repeat("x", sqlstore.MinSecretKeyLength-1), false},
		{strings.Repeat("x", sqlstore.MinSecretKeyLength), true},
	} {
		if _, err := sqlstore.NewSecretKey([]byte(c.secret)); (err == nil) != c.ok {
			t.Errorf("NewSecretKey(%d bytes): %v, want ok %v", len(c.secret), err, c.ok)
		}
	}
}

// A key made in clear after a server sealed the keys at its start (by a
// command run without the secret key, on a database that had no key yet)
// is sealed as soon as a store that has the secret key reads it, to sign
// or to verify: a key in clear lets whoever reads the database sign.
func TestAKeyMadeInClearLaterIsSealedOnRead(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		ctx := context.Background()
		loc := storeLocation(t)
		withKey, err := database.Open(ctx, loc, sqlstore.WithSecretKey(secretKey(t, "correct horse battery staple, 32+ bytes")))
		if err != nil {
			t.Fatal(err)
		}
		defer withKey.Close()
		without, err := database.Open(ctx, loc) // a command run without the key
		if err != nil {
			t.Fatal(err)
		}
		defer without.Close()
		made, err := without.CurrentSigningKey(ctx, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if k := storedSigningKeys(t, loc)[made.ID]; !bytes.Equal(k, made.Key) {
			t.Fatalf("the key made without a secret key is stored as %x, want it in clear (the case this test is about)", k)
		}
		got, err := withKey.CurrentSigningKey(ctx, time.Hour)
		if err != nil || got.ID != made.ID || !bytes.Equal(got.Key, made.Key) {
			t.Fatalf("the store with the secret key signs with %v, %v; want the newest key, opened", got.ID, err)
		}
		for kid, k := range storedSigningKeys(t, loc) {
			if bytes.Equal(k, made.Key) || len(k) == len(made.Key) {
				t.Errorf("key %s is still stored in clear after a store with the secret key read it", kid)
			}
		}
		if v, err := withKey.SigningKey(ctx, made.ID); err != nil || !bytes.Equal(v.Key, made.Key) {
			t.Errorf("after sealing, the key verifies as %x, %v; want the same key", v.Key, err)
		}
	})
}
