package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain runs the tests, or, when the test binary is started under the
// name roster (see rosterCommand), is roster itself: tests run the real
// command in processes of its own, as a user does, without building it.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "roster" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// quickExit is the environment variable that makes a roster process of a
// test binary built with -race exit at once: the race detector otherwise
// sleeps a second at every exit, which the README's sixty commands add up.
func quickExit() string {
	return "GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")
}

// rosterCommand returns the path of a roster command: a link named roster
// to the test binary, which TestMain makes roster.
func rosterCommand(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "roster")
	if err := os.Symlink(self, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestVersionCommandPrintsTheVersion(t *testing.T) {
	t.Parallel()
	cmd := newRootCommand(noEnv)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"version"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.HasPrefix(got, "roster ") || !strings.HasSuffix(got, "\n") {
		t.Fatalf("version printed %q, want \"roster <version>\\n\"", got)
	}
}

// TestAnUnknownCommandFailsWithASuggestion: a mistyped subcommand exits
// non-zero, saying what it did not know and what was likely meant; a
// command that only holds subcommands, given none, prints its help.
func TestAnUnknownCommandFailsWithASuggestion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"users", "lst"}, `unknown command "lst" for "roster users"; did you mean list?`},
		{[]string{"groups", "ad-members", "x", "y"}, `unknown command "ad-members" for "roster groups"; did you mean add-members?`},
		{[]string{"token", "crate"}, `unknown command "crate" for "roster token"; did you mean create?`},
		{[]string{"directory", "creat", "acme"}, `unknown command "creat" for "roster directory"; did you mean create?`},
		{[]string{"client", "revok"}, `unknown command "revok" for "roster client"; did you mean revoke?`},
		{[]string{"sync", "pln"}, `unknown command "pln" for "roster sync"; did you mean plan?`},
		{[]string{"srve"}, `unknown command "srve" for "roster"; did you mean serve?`},
		{[]string{"users", "frobnicate"}, `unknown command "frobnicate" for "roster users"; see roster users --help`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runIn(t, "", tc.args...)
			if r.fail == nil || r.fail.Error() != tc.want {
				t.Fatalf("%v, stdout %q; want the error %q", r.fail, r.out, tc.want)
			}
			if !strings.Contains(r.err, tc.want) {
				t.Errorf("stderr %q does not say %q", r.err, tc.want)
			}
		})
	}
	for _, args := range [][]string{{"users"}, {"sync"}, {}} {
		if r := runIn(t, "", args...); r.fail != nil || !strings.Contains(r.out, "Available Commands") {
			t.Errorf("roster %v: %v, %q; want the help", args, r.fail, r.out)
		}
	}
}

// testClient returns an HTTP client of t's own, for requests to servers
// that are not httptest servers (whose Client would do): its transport is
// a clone of http.DefaultTransport, not DefaultTransport itself, whose idle
// connections every httptest server's Close closes, failing a request of
// a parallel test that takes one at that moment. Its idle connections are
// closed when t ends.
func testClient(t *testing.T) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}
