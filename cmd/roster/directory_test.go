package main

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs roster with args and returns what it printed.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand(noEnv)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// newDB returns the path of a new, migrated SQLite database, as roster
// serve leaves one.
func newDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "roster.db")
	if out, err := run(t, "migrate", "--db", db); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	return db
}

func TestDirectoryAndTokenCommands(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	if out, err := run(t, "directory", "create", "acme", "--db", db); err != nil || !strings.Contains(out, "Created directory acme") {
		t.Fatalf("directory create: %q, %v", out, err)
	}
	if _, err := run(t, "directory", "create", "ACME", "--db", db); err == nil {
		t.Fatal("a second directory named ACME was created")
	}
	out, err := run(t, "directory", "list", "--db", db)
	if err != nil || !strings.Contains(out, "acme") {
		t.Fatalf("directory list: %q, %v", out, err)
	}
	secret, err := run(t, "token", "create", "--directory", "acme", "--name", "okta-prod", "--expires", "90d", "--db", db)
	if err != nil || !strings.HasPrefix(secret, "rst_") {
		t.Fatalf("token create: %q, %v", secret, err)
	}
	jwt, err := run(t, "token", "create", "--directory", "acme", "--name", "entra", "--jwt", "--expires", "30d", "--db", db)
	if err != nil || strings.Count(strings.TrimSpace(jwt), ".") != 2 || !strings.HasPrefix(jwt, "eyJ") {
		t.Fatalf("token create --jwt: %q, %v", jwt, err)
	}
	out, err = run(t, "token", "list", "--directory", "acme", "--db", db)
	if err != nil || !strings.Contains(out, "okta-prod") || strings.Contains(out, strings.TrimSpace(secret)) {
		t.Fatalf("token list: %q, %v (it must name the token and never show its secret)", out, err)
	}
	if _, err := run(t, "token", "revoke", "okta-prod", "--directory", "acme", "--db", db); err != nil {
		t.Fatalf("token revoke: %v", err)
	}
	out, _ = run(t, "token", "list", "--directory", "acme", "--db", db)
	if !strings.Contains(out, "true") {
		t.Fatalf("after revoke: %q, want the token shown revoked", out)
	}
	for _, bad := range []string{"0d", "-3d", "x", "1.5d", "-1h"} {
		if _, err := run(t, "token", "create", "--directory", "acme", "--expires", bad, "--db", db); err == nil {
			t.Errorf("--expires %s was accepted", bad)
		}
	}
	if _, err := run(t, "token", "create", "--directory", "nope", "--db", db); err == nil {
		t.Error("a token for an unknown directory was created")
	}
}

func TestClientCommands(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	if _, err := run(t, "directory", "create", "acme", "--db", db); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "client", "create", "--directory", "acme", "--name", "entra", "--db", db)
	if err != nil || !strings.Contains(out, "client_id:") || !strings.Contains(out, "client_secret: rst_") {
		t.Fatalf("client create: %q, %v", out, err)
	}
	id := strings.Fields(strings.SplitN(out, "\n", 2)[0])[1]
	if _, err := run(t, "client", "revoke", id, "--directory", "acme", "--db", db); err != nil {
		t.Fatalf("client revoke: %v", err)
	}
	if _, err := run(t, "client", "revoke", "nope", "--directory", "acme", "--db", db); err == nil {
		t.Fatal("revoking an unknown client succeeded")
	}
}

// TestAdminCommandsNeverCreateADatabase runs each command that manages a
// server's database where there is none: each fails, names the file it
// looked for and how to point at the right one, and creates nothing.
func TestAdminCommandsNeverCreateADatabase(t *testing.T) {
	for _, tc := range []struct {
		name string
		db   func(dir string) []string // the --db flag, if any
		file string                    // the file it names, in dir
	}{
		{"roster.db in the working directory", func(string) []string { return nil }, "roster.db"},
		{"a path given with --db", func(dir string) []string { return []string{"--db", filepath.Join(dir, "data", "roster.db")} }, "data/roster.db"},
		{"a sqlite:// URL", func(dir string) []string { return []string{"--db", "sqlite://" + filepath.Join(dir, "data", "r.db")} }, "data/r.db"},
	} {
		for _, args := range [][]string{
			{"directory", "create", "acme"},
			{"directory", "list"},
			{"token", "create", "--directory", "acme"},
			{"token", "list"},
			{"token", "revoke", "okta"},
			{"client", "create", "--directory", "acme"},
			{"client", "revoke", "c1"},
		} {
			t.Run(tc.name+"/"+strings.Join(args, " "), func(t *testing.T) {
				dir := t.TempDir()
				if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
					t.Fatal(err)
				}
				t.Chdir(dir)
				out, err := run(t, append(args, tc.db(dir)...)...)
				if err == nil {
					t.Fatalf("succeeded: %q", out)
				}
				for _, w := range []string{"no database at " + filepath.Join(dir, tc.file) + ":", "--db", "ROSTER_DB"} {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("the error %q does not say %q", err, w)
					}
				}
				top, _ := os.ReadDir(dir)
				data, _ := os.ReadDir(filepath.Join(dir, "data"))
				if len(top) != 1 || len(data) != 0 {
					t.Errorf("afterwards the folder holds %v and data/ %v, want data/ and nothing else", top, data)
				}
			})
		}
	}
}

// TestClientCreatePrintsTheTokenURL: client create prints the token URL
// of the server --base-url (or $ROSTER_URL) names, SCIM base URL or root,
// and one that works; without either it says how to form it.
func TestClientCreatePrintsTheTokenURL(t *testing.T) {
	t.Parallel()
	rs := startRoster(t)
	for _, tc := range []struct {
		name string
		env  env
		args []string
		want string
	}{
		{"the SCIM base URL", nil, []string{"--base-url", "https://scim.example.com/scim/v2"}, "token URL:     https://scim.example.com/oauth/token\n"},
		{"the SCIM base URL with a slash", nil, []string{"--base-url", "https://scim.example.com/scim/v2/"}, "token URL:     https://scim.example.com/oauth/token\n"},
		{"the root", nil, []string{"--base-url", "http://localhost:8080"}, "token URL:     http://localhost:8080/oauth/token\n"},
		{"an app's prefix", nil, []string{"--base-url", "https://app.example.com/idp/scim/v2"}, "token URL:     https://app.example.com/idp/oauth/token\n"},
		{"$ROSTER_URL", env{"ROSTER_URL": "http://127.0.0.1:9/scim/v2"}, nil, "token URL:     http://127.0.0.1:9/oauth/token\n"},
		{"--base-url over $ROSTER_URL", env{"ROSTER_URL": "http://127.0.0.1:9/scim/v2"}, []string{"--base-url", "https://x.example.com"}, "https://x.example.com/oauth/token\n"},
		{"neither", nil, nil, "token URL:     the server's URL followed by /oauth/token, such as http://localhost:8080/oauth/token (give --base-url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runEnv(t, tc.env, "", append([]string{"client", "create", "--db", rs.db, "--directory", "acme"}, tc.args...)...)
			if r.fail != nil || !strings.Contains(r.out, tc.want) || strings.Contains(r.out, "<base>") {
				t.Fatalf("client create: %v, %q, want it to print %q", r.fail, r.out, tc.want)
			}
		})
	}
	for _, bad := range [][]string{{"--base-url", "localhost:8080"}, {"--base-url", "ftp://x/scim/v2"}, {"-o", "env"}, {"-o", "yaml"}} {
		if r := runIn(t, "", append([]string{"client", "create", "--db", rs.db, "--directory", "acme"}, bad...)...); r.fail == nil {
			t.Errorf("client create %v succeeded: %q", bad, r.out)
		}
	}

	// -o env, for eval: the URL it prints gives the id and secret an
	// access token that works.
	out := must(t, "client", "create", "--db", rs.db, "--directory", "acme", "--base-url", rs.url, "-o", "env")
	vars := map[string]string{}
	for line := range strings.Lines(out) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || !strings.HasPrefix(v, "'") || !strings.HasSuffix(v, "'") {
			t.Fatalf("-o env printed %q, want NAME='value' lines", out)
		}
		vars[k] = strings.Trim(v, "'")
	}
	if vars["TOKEN_URL"] != rs.root+"/oauth/token" {
		t.Fatalf("-o env printed %q, want TOKEN_URL=%s/oauth/token", out, rs.root)
	}
	resp, err := testClient(t).PostForm(vars["TOKEN_URL"], url.Values{"grant_type": {"client_credentials"},
		"client_id": {vars["CLIENT_ID"]}, "client_secret": {vars["CLIENT_SECRET"]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the printed token URL answered %d to the printed id and secret", resp.StatusCode)
	}
}
