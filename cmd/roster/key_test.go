package main

import (
	"strings"
	"testing"
)

// TestKeyCommands covers roster key create, list and revoke, and
// directory delete.
func TestKeyCommands(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	out, err := run(t, "key", "create", "--name", "app", "--db", db)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || !strings.HasPrefix(lines[len(lines)-1], "rmk_") {
		t.Fatalf("key create: %q, %v; want the key alone on the last line", out, err)
	}
	secret := lines[len(lines)-1]
	if _, err := run(t, "key", "create", "--name", "app", "--db", db); err == nil {
		t.Error("a second key named app was made")
	}
	if _, err := run(t, "key", "create", "--db", db); err == nil {
		t.Error("a key without a name was made")
	}
	if _, err := run(t, "key", "create", "--name", "ci", "--expires", "90d", "--db", db); err != nil {
		t.Fatalf("key create --expires 90d: %v", err)
	}
	out, err = run(t, "key", "list", "--db", db)
	if err != nil || !strings.Contains(out, "app") || !strings.Contains(out, "ci") || strings.Contains(out, secret) {
		t.Fatalf("key list: %q, %v (it must name the keys and never show a secret)", out, err)
	}
	if _, err := run(t, "key", "revoke", "app", "--db", db); err != nil {
		t.Fatalf("key revoke: %v", err)
	}
	if _, err := run(t, "key", "revoke", "nobody", "--db", db); err == nil {
		t.Error("revoking an unknown key succeeded")
	}

	if _, err := run(t, "directory", "create", "acme", "--db", db); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "directory", "delete", "acme", "--db", db); err != nil || !strings.Contains(out, "Deleted directory acme") {
		t.Fatalf("directory delete: %q, %v", out, err)
	}
	if out, _ := run(t, "directory", "list", "--db", db); strings.Contains(out, "acme") {
		t.Fatalf("after delete: %q", out)
	}
	if _, err := run(t, "directory", "delete", "acme", "--db", db); err == nil {
		t.Error("deleting a deleted directory succeeded")
	}
}
