package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/conformance"
	"github.com/rosterhq/roster/server"
)

// unreachableURL returns a loopback SCIM URL nothing listens on.
func unreachableURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/scim/v2"
}

func TestConformPassesAgainstRoster(t *testing.T) {
	t.Parallel()
	rs := startRoster(t)
	junit := filepath.Join(t.TempDir(), "conform.xml")

	r := runIn(t, "", "conform", rs.url, "--token", rs.token, "-o", "junit="+junit)
	if r.fail != nil {
		t.Fatalf("roster conform: %v (exit %d)\n%s", r.fail, exitCode(r.fail), r.out)
	}
	if !strings.Contains(r.out, "0 failed") || !strings.Contains(r.out, "FILTER") || strings.Contains(r.out, "\x1b[") {
		t.Errorf("the text report (not a terminal: no colour) is not a table by tag ending in 0 failed:\n%s", r.out)
	}
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name string `xml:"name,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &suites); err != nil {
		t.Fatalf("the JUnit file does not parse: %v\n%s", err, data)
	}
	if suites.Tests != len(conformance.Checks()) || suites.Failures != 0 || len(suites.Suites) < 10 {
		t.Errorf("the JUnit file has %d tests, %d failures, %d suites", suites.Tests, suites.Failures, len(suites.Suites))
	}

	r = runIn(t, "", "conform", rs.url, "--token", rs.token, "-o", "json", "--only", "users,filter")
	if r.fail != nil {
		t.Fatalf("roster conform -o json: %v", r.fail)
	}
	var rep conformance.Report
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatalf("-o json is not a report: %v\n%s", err, r.out)
	}
	for _, res := range rep.Results {
		if !strings.HasPrefix(res.ID, "users.") && !strings.HasPrefix(res.ID, "filter.") &&
			!containsString(res.Tags, "users") && !containsString(res.Tags, "filter") {
			t.Errorf("--only users,filter ran %s", res.ID)
		}
	}
	if len(rep.Results) < 20 || rep.Failed() {
		t.Errorf("-o json reported %d results, failed %v", len(rep.Results), rep.Failed())
	}
	if users := jsonLines(t, must(t, "users", "list", "-o", "json", "--url", rs.url, "--token", rs.token)); len(users) != 0 {
		t.Errorf("the runs left %d users behind", len(users))
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestConformReadOnlyCreatesNothing(t *testing.T) {
	t.Parallel()
	rs := startRoster(t)
	r := runEnv(t, env{"ROSTER_URL": rs.url, "ROSTER_TOKEN": rs.token}, "", "conform", "--read-only", "-o", "json")
	if r.fail != nil {
		t.Fatalf("roster conform --read-only: %v", r.fail)
	}
	var rep conformance.Report
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Count(conformance.Pass) < 10 || rep.Cleanup.Deleted != 0 {
		t.Errorf("--read-only passed %d checks and deleted %d resources", rep.Count(conformance.Pass), rep.Cleanup.Deleted)
	}
	if res, _ := rep.Result("users.create"); res.Status != conformance.Skip || !strings.Contains(res.Message, "read-only") {
		t.Errorf("users.create under --read-only: %s %q", res.Status, res.Message)
	}
	if users := jsonLines(t, must(t, "users", "list", "-o", "json", "--url", rs.url, "--token", rs.token)); len(users) != 0 {
		t.Errorf("--read-only created %d users", len(users))
	}
}

// TestConformExitCodes: 1 when a check fails (explained, with the
// exchange under -v), 2 when the checks cannot run.
func TestConformExitCodes(t *testing.T) {
	t.Parallel()
	rs := startRoster(t)
	// A server that ignores If-Match, in front of Roster.
	h := server.New(server.Config{Store: rs.st, RateLimit: -1, PasswordIterations: 1000})
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("If-Match")
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(broken.Close)

	r := runIn(t, "", "conform", broken.URL+"/scim/v2", "--token", rs.token, "--only", "etag", "-v")
	if code := exitCode(r.fail); code != 1 {
		t.Fatalf("a failing check exited %d (%v), want 1:\n%s", code, r.fail, r.out)
	}
	for _, want := range []string{"FAIL etag.if_match_stale_412", "expected status 412, got 200", "> If-Match: ", "> Authorization: Bearer ****"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("the -v report does not show %q:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, rs.token) {
		t.Errorf("the -v report shows the token")
	}

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"unreachable", []string{"conform", unreachableURL(t), "--token", "x"}},
		{"a wrong base URL", []string{"conform", rs.root + "/scim/v3", "--token", rs.token}},
		{"credentials refused", []string{"conform", rs.url, "--token", "wrong"}},
		{"no credentials", []string{"conform", rs.url}},
		{"no URL", []string{"conform", "--token", "x"}},
		{"a bad output", []string{"conform", rs.url, "--token", rs.token, "-o", "xml"}},
		{"an unknown flag", []string{"conform", rs.url, "--token", rs.token, "--frobnicate"}},
		{"an unknown profile", []string{"conform", rs.url, "--token", rs.token, "--profile", "onelogin"}},
		{"an unknown tag", []string{"conform", rs.url, "--token", rs.token, "--only", "filters"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runIn(t, "", tc.args...)
			if code := exitCode(r.fail); code != 2 {
				t.Errorf("exited %d (%v), want 2", code, r.fail)
			}
		})
	}
}

// TestConformExitsTwoWhenItCannotRun runs the roster process itself, so
// that main's exit code is what is tested.
func TestConformExitsTwoWhenItCannotRun(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(rosterCommand(t), "conform", unreachableURL(t), "--token", "x")
	cmd.Env = []string{quickExit()}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("roster conform of an unreachable URL: %v, want exit status 2\n%s", err, out)
	}
	if !strings.Contains(string(out), "cannot run") {
		t.Errorf("it did not say why:\n%s", out)
	}
}

// TestConformAuthenticatesAsUsersDoes: the auth flags are those of roster
// users, HTTP Basic and OAuth 2.0 client credentials included.
func TestConformAuthenticatesAsUsersDoes(t *testing.T) {
	t.Parallel()
	rs := startRoster(t)
	c, secret, err := rs.st.CreateClient(context.Background(), rs.dir.ID, "conform")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"basic", []string{"--basic-user", "acme", "--basic-password", rs.token}},
		{"oauth2", []string{"--oauth-token-url", rs.root + "/oauth/token", "--oauth-client-id", c.ID, "--oauth-client-secret", secret}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runIn(t, "", append([]string{"conform", rs.url, "--only", "discovery,auth,users"}, tc.args...)...)
			if r.fail != nil || !strings.Contains(r.out, " 0 failed") {
				t.Fatalf("roster conform: %v\n%s", r.fail, r.out)
			}
		})
	}
	r := runIn(t, "", "conform", rs.url, "--oauth-token-url", rs.root+"/oauth/token", "--oauth-client-id", c.ID, "--oauth-client-secret", "wrong")
	if code := exitCode(r.fail); code != 2 {
		t.Errorf("a wrong client secret exited %d (%v), want 2", code, r.fail)
	}
}

// TestAnInterruptedConformSaysWhatItLeft interrupts a run whose server
// refuses the cleanup's DELETEs: the error does not claim that what the
// run created was deleted.
func TestAnInterruptedConformSaysWhatItLeft(t *testing.T) {
	t.Parallel()
	rs := startRoster(t)
	h := server.New(server.Config{Store: rs.st, RateLimit: -1, PasswordIterations: 1000})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodDelete:
			http.Error(w, "deletes are off", http.StatusForbidden)
			return
		case r.Method == http.MethodPost && posts.Add(1) == 5:
			cancel()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cmd := newRootCommand(noEnv)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"conform", srv.URL + "/scim/v2", "--token", rs.token})
	err := cmd.ExecuteContext(ctx)
	if code := exitCode(err); code != 2 {
		t.Fatalf("an interrupted run exited %d (%v), want 2:\n%s", code, err, out.String())
	}
	if msg := err.Error(); strings.Contains(msg, "was deleted") || !strings.Contains(msg, "could not be deleted") {
		t.Errorf("the interrupted run whose DELETEs were refused says %q", msg)
	}
}
