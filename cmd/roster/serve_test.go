package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/rosterhq/roster/store/sqlite"
)

func TestFirstRunCreatesADirectoryAndPrintsAWorkingTokenOnce(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cmd := newServeCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	if err := firstRun(ctx, cmd, st); err != nil {
		t.Fatal(err)
	}
	secret := regexp.MustCompile(`rst_[A-Za-z0-9_-]+`).FindString(out.String())
	if secret == "" {
		t.Fatalf("first run printed %q, want a token", out.String())
	}
	tok, err := st.Authenticate(ctx, secret)
	if err != nil {
		t.Fatalf("the printed token does not authenticate: %v", err)
	}
	d, err := st.Directory(ctx, "default")
	if err != nil || tok.DirectoryID != d.ID {
		t.Fatalf("the token is for %q, want the default directory (%v)", tok.DirectoryID, err)
	}
	out.Reset()
	if err := firstRun(ctx, cmd, st); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Fatalf("a second run printed %q, want nothing", out.String())
	}
}
