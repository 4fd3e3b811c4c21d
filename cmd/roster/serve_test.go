package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
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
	cmd := newServeCommand(noEnv)
	var out bytes.Buffer
	cmd.SetOut(&out)
	if err := firstRun(ctx, cmd, st, ""); err != nil {
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
	if err := firstRun(ctx, cmd, st, ""); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Fatalf("a second run printed %q, want nothing", out.String())
	}
}

func TestFirstRunTakesROSTER_TOKEN(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cmd := newServeCommand(noEnv)
	var out bytes.Buffer
	cmd.SetOut(&out)
	if err := firstRun(ctx, cmd, st, "short"); err == nil {
		t.Fatal("a short ROSTER_TOKEN was accepted")
	}
	if dirs, _ := st.Directories(ctx); len(dirs) != 0 {
		t.Fatal("a refused ROSTER_TOKEN left a directory without a token behind")
	}
	const secret = "my-deployment-secret-0123456789abcdef"
	st2, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if err := firstRun(ctx, cmd, st2, secret); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), secret) {
		t.Fatal("the ROSTER_TOKEN secret was printed")
	}
	if _, err := st2.Authenticate(ctx, secret); err != nil {
		t.Fatalf("ROSTER_TOKEN does not authenticate: %v", err)
	}
}
