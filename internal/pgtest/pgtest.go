// Package pgtest gives tests a fresh PostgreSQL database of their own.
//
// The server is the one ROSTER_TEST_POSTGRES names (a connection URL to
// any database on it, by default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). Without a
// reachable server, tests skip on a developer's machine and fail when
// CI=true, so that CI never passes by skipping them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := ServerURL()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		Unavailable(tb, err)
	}
	defer conn.Close(ctx)

	var b [6]byte
	rand.Read(b[:])
	name := "roster_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() { Drop(tb, name) })

	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatalf("pgtest: ROSTER_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Drop drops a database of the test server, ending its sessions first.
func Drop(tb testing.TB, name string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		tb.Errorf("pgtest: drop database %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		tb.Errorf("pgtest: drop database %s: %v", name, err)
	}
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
