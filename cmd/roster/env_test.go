package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// nonsense is a value for each ROSTER_* variable the commands read, such
// that a command that read one would fail or go elsewhere.
var nonsense = env{
	"ROSTER_URL":                 "http://127.0.0.1:1/nonsense",
	"ROSTER_TOKEN":               "nonsense",
	"ROSTER_DB":                  "/nonexistent/nonsense.db",
	"ROSTER_BASIC_PASSWORD":      "nonsense",
	"ROSTER_OAUTH_CLIENT_SECRET": "nonsense",
	"ROSTER_SECRET_KEY":          "nonsense", // too short to be a key: a command that read it would fail
	"ROSTER_SECRET_KEY_FILE":     "/nonexistent/nonsense.key",
}

// TestCommandsReadNoVariableOfTheProcess sets every ROSTER_* variable the
// commands read to nonsense, as a user who followed the README has them
// exported, and runs the commands in the empty environment tests give
// them: each must behave as if nothing were set, so that no test depends
// on the caller's shell.
func TestCommandsReadNoVariableOfTheProcess(t *testing.T) {
	for k, v := range nonsense {
		t.Setenv(k, v)
	}
	t.Chdir(t.TempDir())

	// serve: a first run prints a token of its own (ROSTER_TOKEN is too
	// short to be taken), in roster.db of the working directory.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, logs := &syncBuffer{}, &syncBuffer{}
	serve := newRootCommand(noEnv)
	serve.SetOut(out)
	serve.SetErr(logs)
	serve.SetArgs([]string{"serve", "--addr", "127.0.0.1:0"})
	done := make(chan error, 1)
	go func() { done <- serve.ExecuteContext(ctx) }()
	url := waitFor(t, logs, regexp.MustCompile(`url=(http://127\.0\.0\.1:[0-9]+/scim/v2)`), done)
	token := regexp.MustCompile(`rst_[A-Za-z0-9_-]+`).FindString(out.String())
	if token == "" {
		t.Fatalf("serve printed %q, want a token of its own", out.String())
	}

	// The admin commands open the same roster.db, not $ROSTER_DB.
	if r := runIn(t, "", "directory", "create", "acme"); r.fail != nil {
		t.Fatalf("directory create: %v, %q", r.fail, r.err)
	}
	// The remote commands take no URL, token or secret from the process.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"users", "list"}, "no server"},
		{[]string{"users", "list", "--url", url}, "no credentials"},
		{[]string{"users", "list", "--url", url, "--basic-user", "default"}, "needs a password"},
		{[]string{"users", "list", "--url", url, "--oauth-token-url", url, "--oauth-client-id", "c"}, "need --oauth-client-secret"},
		{[]string{"conform"}, "no server"},
		{[]string{"conform", url}, "no credentials"},
	} {
		r := runIn(t, "", tc.args...)
		if r.fail == nil || !strings.Contains(r.err, tc.want) {
			t.Errorf("roster %s: %v, %q: want it to say %q", strings.Join(tc.args, " "), r.fail, r.err, tc.want)
		}
	}
	if r := runIn(t, "", "users", "list", "--url", url, "--token", token); r.fail != nil {
		t.Errorf("users list with flags: %v, %q", r.fail, r.err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// waitFor waits until re matches what b holds and returns its first group,
// failing the test if done reports first or 30 seconds pass.
func waitFor(t *testing.T, b *syncBuffer, re *regexp.Regexp, done <-chan error) string {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(30 * time.Second)
	for {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("ended before %s appeared: %v\n%s", re, err, b.String())
		case <-timeout:
			t.Fatalf("%s did not appear in 30 s:\n%s", re, b.String())
		case <-tick.C:
		}
	}
}
