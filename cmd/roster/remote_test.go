package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlite"
)

// newRoster starts a real Roster server on a loopback port over a fresh
// SQLite store, and returns the flags that point the users, groups and
// discover commands at it.
func newRoster(t *testing.T) []string {
	t.Helper()
	rs := startRoster(t)
	return []string{"--url", rs.url, "--token", rs.token}
}

// testRoster is a Roster server a test started.
type testRoster struct {
	url   string // the SCIM base URL
	root  string // the server's root URL, where /oauth/token is
	token string // a token of the directory
	db    string // the SQLite file
	st    *sqlite.Store
	dir   store.Directory // the directory, acme
}

// startRoster starts a real Roster server on a loopback port over a fresh
// SQLite store with one directory, acme.
func startRoster(t *testing.T) testRoster {
	t.Helper()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "roster.db")
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d, err := st.CreateDirectory(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := st.CreateToken(ctx, d.ID, "test", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{Store: st, RateLimit: -1, PasswordIterations: 1000}))
	t.Cleanup(srv.Close)
	return testRoster{url: srv.URL + "/scim/v2", root: srv.URL, token: token, db: db, st: st, dir: d}
}

// result is what a run of roster printed, and how it ended.
type result struct {
	out, err string
	fail     error
}

// env is an environment a test gives the commands: nothing of the
// caller's reaches them.
type env map[string]string

// get returns the value of key.
func (e env) get(key string) string { return e[key] }

// noEnv is an empty environment.
func noEnv(string) string { return "" }

// runIn runs roster with args and stdin as its standard input, in an
// empty environment.
func runIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runEnv(t, nil, stdin, args...)
}

// runEnv is runIn in the environment e.
func runEnv(t *testing.T, e env, stdin string, args ...string) result {
	t.Helper()
	cmd := newRootCommand(e.get)
	var out, errOut bytes.Buffer
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return result{out.String(), errOut.String(), err}
}

// must runs roster with args and fails the test if it fails.
func must(t *testing.T, args ...string) string {
	t.Helper()
	r := runIn(t, "", args...)
	if r.fail != nil {
		t.Fatalf("roster %s: %v\n%s", strings.Join(args, " "), r.fail, r.err)
	}
	return r.out
}

// jsonLines decodes -o json output, one object a line.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for line := range strings.Lines(out) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("a line of -o json is not a JSON object: %q: %v", line, err)
		}
		objs = append(objs, m)
	}
	return objs
}

// rows returns a table's rows after its header, each split into cells.
func rows(t *testing.T, out string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("not a table with an ID column: %q", out)
	}
	var rs [][]string
	for _, l := range lines[1:] {
		rs = append(rs, strings.Fields(l))
	}
	return rs
}

func TestAServerErrorExitsNonZeroAndShowsStatusScimTypeAndDetail(t *testing.T) {
	t.Parallel()
	srv := newRoster(t)
	must(t, append([]string{"users", "create", "--user-name", "alice"}, srv...)...)
	must(t, append([]string{"groups", "create", "--display-name", "Engineering"}, srv...)...)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"a user that does not exist", []string{"users", "get", "nope"}, []string{"404 Not Found", "nope", "GET "}},
		{"a group that does not exist", []string{"groups", "delete", "nope"}, []string{`no group has id or displayName "nope"`, "404 Not Found", "GET "}},
		{"a userName that is taken", []string{"users", "create", "--user-name", "ALICE"}, []string{"409 Conflict", "scimType uniqueness"}},
		{"a filter that does not parse", []string{"users", "list", "--filter", "userName eq"}, []string{"400 Bad Request", "scimType invalidFilter"}},
		{"members of a group that does not exist", []string{"groups", "add-members", "nope", "alice"}, []string{`no group has id or displayName "nope"`}},
		{"a member that does not exist", []string{"groups", "add-members", "Engineering", "alice", "nobody"}, []string{`no user or group has id, userName or displayName "nobody"`}},
		{"a userName that does not exist", []string{"users", "deactivate", "alice", "nobody@example.com"}, []string{`no user has id or userName "nobody@example.com"`, "404 Not Found"}},
		{"an update of another user's JSON", []string{"users", "update", "alice", "-f", "-"}, []string{"the JSON is of user y, not alice ("}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runIn(t, `{"id":"y","userName":"alice"}`, append(tc.args, srv...)...)
			if r.fail == nil {
				t.Fatalf("succeeded: %q", r.out)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.err, w) {
					t.Errorf("stderr %q does not say %q", r.err, w)
				}
			}
			if r.out != "" {
				t.Errorf("stdout %q, want nothing", r.out)
			}
		})
	}
}

func TestAWrongTokenIsRefused(t *testing.T) {
	t.Parallel()
	srv := newRoster(t)
	r := runIn(t, "", "users", "list", "--url", srv[1], "--token", "rst_wrong")
	if r.fail == nil || !strings.Contains(r.err, "401 Unauthorized") {
		t.Fatalf("a wrong token: %v, %q", r.fail, r.err)
	}
}

func TestURLAndTokenComeFromTheEnvironment(t *testing.T) {
	t.Parallel()
	srv := newRoster(t)
	e := env{"ROSTER_URL": srv[1], "ROSTER_TOKEN": srv[3]}
	if r := runEnv(t, e, "", "users", "create", "--user-name", "alice"); r.fail != nil {
		t.Fatalf("users create with $ROSTER_URL and $ROSTER_TOKEN: %v, %q", r.fail, r.err)
	}
	if r := runEnv(t, e, "", "users", "list"); !strings.Contains(r.out, "alice") {
		t.Fatalf("users list with $ROSTER_URL and $ROSTER_TOKEN: %v, %q, %q", r.fail, r.out, r.err)
	}
	if r := runEnv(t, e, "", "users", "--help"); strings.Contains(r.out, srv[3]) {
		t.Fatal("--help printed the token")
	}
	if r := runEnv(t, env{"ROSTER_TOKEN": srv[3]}, "", "users", "list"); r.fail == nil || !strings.Contains(r.err, "ROSTER_URL") {
		t.Fatalf("without a URL: %v, %q", r.fail, r.err)
	}
}

func TestMistakesAreRefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	// No server listens here: each mistake must be caught before a request.
	off := []string{"--url", "http://127.0.0.1:1/scim/v2", "--token", "t"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"an unknown output format", []string{"users", "list", "-o", "yaml"}, "table, json or id"},
		{"a user without a userName", []string{"users", "create", "--given-name", "Alice"}, "--user-name"},
		{"a file and flags", []string{"users", "create", "-f", "-", "--user-name", "a"}, "do not go together"},
		{"a group without a name", []string{"groups", "create", "--member", "x"}, "--display-name"},
		{"a patch without operations", []string{"users", "patch", "x"}, "--op"},
		{"an operation with a misspelt field", []string{"users", "patch", "x", "--op", `{"op":"replace","path":"title","vaule":"x"}`}, `unknown field "vaule"`},
		{"an operation without op", []string{"users", "patch", "x", "--op", `{"path":"title"}`}, `no "op"`},
		{"an update without a file", []string{"users", "update", "x"}, `"file" not set`},
		{"a sort order that is not one", []string{"users", "list", "--sort-by", "userName", "--sort-order", "up"}, "ascending or descending"},
		{"a sort order without a sort attribute", []string{"groups", "list", "--sort-order", "descending"}, "--sort-by"},
		{"a group's empty new name", []string{"groups", "rename", "x", ""}, "cannot be empty"},
		{"a group patch without operations", []string{"groups", "patch", "x"}, "--op"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runIn(t, `{"id":"y","userName":"a"}`, append(tc.args, off...)...)
			if r.fail == nil || !strings.Contains(r.err, tc.want) {
				t.Fatalf("%v, stderr %q, want it to say %q", r.fail, r.err, tc.want)
			}
		})
	}
}

func TestBasicAndOAuth2CredentialsAuthenticate(t *testing.T) {
	t.Parallel()
	rs := startRoster(t)
	clientID, secret, err := rs.st.CreateClient(context.Background(), rs.dir.ID, "cli")
	if err != nil {
		t.Fatal(err)
	}
	tokenURL := rs.root + "/oauth/token"
	must(t, "users", "create", "--user-name", "alice", "--url", rs.url, "--token", rs.token)

	for _, tc := range []struct {
		name string
		env  env
		args []string
	}{
		{"basic from flags", nil, []string{"--basic-user", "acme", "--basic-password", rs.token}},
		{"basic with the password from the environment", env{"ROSTER_BASIC_PASSWORD": rs.token}, []string{"--basic-user", "acme"}},
		{"oauth2 from flags", nil, []string{"--oauth-token-url", tokenURL, "--oauth-client-id", clientID.ID, "--oauth-client-secret", secret}},
		{"oauth2 with the secret from the environment", env{"ROSTER_OAUTH_CLIENT_SECRET": secret}, []string{"--oauth-token-url", tokenURL, "--oauth-client-id", clientID.ID}},
		// ROSTER_TOKEN is a default: flags of another way override it.
		{"basic flags over a wrong ROSTER_TOKEN", env{"ROSTER_TOKEN": "rst_wrong"}, []string{"--basic-user", "acme", "--basic-password", rs.token}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := runEnv(t, tc.env, "", append([]string{"users", "list", "--url", rs.url}, tc.args...)...); !strings.Contains(r.out, "alice") {
				t.Fatalf("users list: %v, %q, %q", r.fail, r.out, r.err)
			}
		})
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a wrong basic password", []string{"--basic-user", "acme", "--basic-password", "rst_wrong"}, "401 Unauthorized"},
		{"a wrong client secret", []string{"--oauth-token-url", tokenURL, "--oauth-client-id", clientID.ID, "--oauth-client-secret", "wrong"}, "oauth2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := runIn(t, "", append([]string{"users", "list", "--url", rs.url}, tc.args...)...); r.fail == nil || !strings.Contains(r.err, tc.want) {
				t.Fatalf("%v, stderr %q, want it to say %q", r.fail, r.err, tc.want)
			}
		})
	}
}

func TestOneWayToAuthenticateIsNeeded(t *testing.T) {
	t.Parallel()
	rs := startRoster(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"none", nil, "no credentials: give --token"},
		{"a token and basic", []string{"--token", "t", "--basic-user", "acme", "--basic-password", "p"}, "--token and --basic-user do not go together"},
		{"basic and oauth2", []string{"--basic-user", "acme", "--basic-password", "p", "--oauth-client-id", "c"}, "--basic-user and --oauth-client-id do not go together"},
		{"a basic user without a password", []string{"--basic-user", "acme"}, "ROSTER_BASIC_PASSWORD"},
		{"a basic password without a user", []string{"--basic-password", "p"}, "--basic-password goes with --basic-user"},
		{"oauth2 without a token URL or secret", []string{"--oauth-client-id", "c"}, "need --oauth-token-url and --oauth-client-secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The URL is the real server's, yet nothing may be sent: a
			// request without credentials would get a 401 instead.
			r := runIn(t, "", append([]string{"users", "list", "--url", rs.url}, tc.args...)...)
			if r.fail == nil || !strings.Contains(r.err, tc.want) {
				t.Fatalf("%v, stderr %q, want it to say %q", r.fail, r.err, tc.want)
			}
		})
	}
	// Discovery needs no credentials where the server asks for none.
	if r := runIn(t, "", "discover", "--url", rs.url); r.fail != nil && strings.Contains(r.err, "no credentials") {
		t.Fatalf("discover without credentials: %v, %q", r.fail, r.err)
	}
}
