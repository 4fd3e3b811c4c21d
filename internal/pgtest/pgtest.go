// Package pgtest gives tests PostgreSQL databases: one a package's run
// shares (Shared), in which each test works in directories of its own, and,
// for a test that needs a whole database to itself (migrations, outages,
// the list of every directory), a fresh one (New).
//
// The server is the one ROSTER_TEST_POSTGRES names (a connection URL to
// any database on it, by default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). Without a
// reachable server, tests skip on a developer's machine and fail when
// CI=true, so that CI never passes by skipping them.
//
// A package that calls Shared runs its tests through Main, which drops the
// shared database when they end:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server tests use when ROSTER_TEST_POSTGRES is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL returns the URL of the test server.
func ServerURL() string {
	if u := os.Getenv("ROSTER_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

// New creates a new, empty database on the test server, drops it when the
// test ends, and returns its connection URL.
func New(tb testing.TB) string {
	tb.Helper()
	name, err := create()
	if err != nil {
		failOrSkip(tb, err)
	}
	tb.Cleanup(func() { Drop(tb, name) })
	return databaseURL(tb, name)
}

// shared is the database of a package's run: created by the first test
// that asks for it, dropped by Main. It is the one state of the package,
// as the run it belongs to is the test binary's.
var shared struct {
	sync.Mutex
	main bool   // Main runs the tests
	name string // the database, once created
	err  error  // why it could not be
}

// Shared returns the connection URL of the database the tests of this
// package's run share, creating it for the first. A test works in
// directories of its own there (names no other test uses), and must not
// depend on what other tests leave in it, such as the list of every
// directory. The package's TestMain must run its tests through Main.
func Shared(tb testing.TB) string {
	tb.Helper()
	shared.Lock()
	defer shared.Unlock()
	if !shared.main {
		tb.Fatal("pgtest: Shared needs the package's TestMain to run the tests through pgtest.Main, which drops the database")
	}
	if shared.name == "" && shared.err == nil {
		shared.name, shared.err = create()
	}
	if shared.err != nil {
		failOrSkip(tb, shared.err)
	}
	return databaseURL(tb, shared.name)
}

// Main runs the tests of m and drops the database Shared created, if it
// did; it returns m.Run's exit code.
func Main(m *testing.M) int {
	shared.Lock()
	shared.main = true
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	defer shared.Unlock()
	if shared.name != "" {
		if err := drop(shared.name); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			code = max(code, 1)
		}
	}
	return code
}

// create creates a database with a new name on the test server.
func create() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		return "", unreachable{err}
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	name := "roster_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return name, nil
}

// unreachable is the error of a server that cannot be reached.
type unreachable struct{ err error }

func (u unreachable) Error() string { return u.err.Error() }

// failOrSkip fails the test with err, or calls Unavailable if err says
// the server cannot be reached.
func failOrSkip(tb testing.TB, err error) {
	tb.Helper()
	if u, ok := err.(unreachable); ok {
		Unavailable(tb, u.err)
	}
	tb.Fatal(err)
}

// databaseURL returns the URL of the test server's database name.
func databaseURL(tb testing.TB, name string) string {
	tb.Helper()
	u, err := url.Parse(ServerURL())
	if err != nil {
		tb.Fatalf("pgtest: ROSTER_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Drop drops a database of the test server, ending its sessions first.
func Drop(tb testing.TB, name string) {
	tb.Helper()
	if err := drop(name); err != nil {
		tb.Error(err)
	}
}

func drop(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		return fmt.Errorf("pgtest: drop database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("pgtest: drop database %s: %w", name, err)
	}
	return nil
}

// Unavailable skips the test because PostgreSQL cannot be reached, or
// fails it when CI=true.
func Unavailable(tb testing.TB, err error) {
	tb.Helper()
	msg := fmt.Sprintf("PostgreSQL is not reachable at %s (set ROSTER_TEST_POSTGRES to a server's URL): %v", ServerURL(), err)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}
