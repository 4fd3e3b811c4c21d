package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestMigrateTakesTheSQLiteURLThatServeTakes runs `roster migrate` on a
// sqlite:// URL: it migrates the file the URL names, as serve and the
// other commands open it, not a file named after the URL.
func TestMigrateTakesTheSQLiteURLThatServeTakes(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	path := filepath.Join(dir, "roster.db")
	cmd := newRootCommand(noEnv)
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
