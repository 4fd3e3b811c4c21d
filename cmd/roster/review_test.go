package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestMigrateTakesTheSQLiteURLThatServeTakes runs `roster migrate` on a
// sqlite:// URL: it migrates the file the URL names, as serve and the
// other commands open it, not a file named after the URL.
func TestMigrateTakesTheSQLiteURLThatServeTakes(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	path := filepath.Join(dir, "roster.db")
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"migrate", "--db", "sqlite://" + path})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("migrate did not create %s (%v); the directory holds %v", path, err, names)
	}
}

// TestRedactHidesAPasswordInTheQuery: pgx takes the password from the
// URL's query too.
func TestRedactHidesAPasswordInTheQuery(t *testing.T) {
	for _, in := range []string{
		"postgres://db/roster?user=roster&password=s3cret",
		"postgresql://roster:s3cret@db/roster?sslmode=disable",
		"postgres://roster@db/roster?sslmode=disable&password=s3cret&application_name=roster",
	} {
		cfg, err := pgconn.ParseConfig(in)
		if err != nil || cfg.Password != "s3cret" {
			t.Fatalf("pgx takes %s with the password %q, %v", in, cfg.Password, err)
		}
		if got := redact(in); strings.Contains(got, "s3cret") || !strings.Contains(got, "db/roster") {
			t.Errorf("redact(%q) = %q", in, got)
		}
	}
}
