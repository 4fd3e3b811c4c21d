package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rosterhq/roster/store/sqlite"
)

// TestAdminCommands covers roster admin create, reset and list: a
// one-time link, or a password from stdin, never shown.
func TestAdminCommands(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	out, err := run(t, "admin", "create", "ada", "--db", db, "--url", "https://console.example/")
	link := regexp.MustCompile(`https://console\.example/ui/setup\?token=rsu_[A-Za-z0-9_-]+`).FindString(out)
	if err != nil || link == "" {
		t.Fatalf("admin create: %q, %v; want a setup link", out, err)
	}
	if _, err := run(t, "admin", "create", "ada", "--db", db); err == nil {
		t.Error("a second admin named ada was made")
	}
	if _, err := run(t, "admin", "reset", "bob", "--db", db); err == nil {
		t.Error("an unknown admin was reset")
	}
	if out, err := run(t, "admin", "list", "--db", db); err != nil || !strings.Contains(out, "ada") || !strings.Contains(out, "not set") {
		t.Errorf("admin list: %q, %v", out, err)
	}
	cmd := newRootCommand(noEnv)
	var buf bytes.Buffer
	cmd.SetOut(&buf)
	cmd.SetErr(&buf)
	cmd.SetIn(strings.NewReader("a passphrase long enough\n"))
	cmd.SetArgs([]string{"admin", "reset", "ada", "--password-stdin", "--db", db})
	if err := cmd.Execute(); err != nil || strings.Contains(buf.String(), "passphrase") {
		t.Fatalf("admin reset --password-stdin: %q, %v", buf.String(), err)
	}
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, hash, err := st.AdminPassword(context.Background(), "ada")
	if err != nil || !strings.HasPrefix(hash, "$argon2id$") {
		t.Errorf("the stored password is %q, %v", hash, err)
	}
	if _, err := st.AdminBySetup(context.Background(), link[strings.Index(link, "rsu_"):]); err == nil {
		t.Error("the setup link still works after the password was set")
	}
}

// TestAdminAddrMovesTheConsoleAndTheManagementAPI starts roster serve
// with --admin-addr: the console and /api/v1 answer there and not on
// --addr, which still serves SCIM; the first-run link points at the
// admin address.
func TestAdminAddrMovesTheConsoleAndTheManagementAPI(t *testing.T) {
	t.Parallel()
	logs, stdout := &syncBuffer{}, &syncBuffer{}
	cmd := exec.Command(rosterCommand(t), "serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
		"--db", filepath.Join(t.TempDir(), "roster.db"))
	cmd.Env = []string{quickExit()}
	cmd.Stdout, cmd.Stderr = stdout, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	public := waitFor(t, logs, regexp.MustCompile(`msg="serving SCIM" url=(http://127\.0\.0\.1:[0-9]+)/scim/v2`), exited)
	admin := waitFor(t, logs, regexp.MustCompile(`msg="serving the console" url=(http://127\.0\.0\.1:[0-9]+)/ui/`), exited)
	if public == admin {
		t.Fatalf("the console is on the public address %s", public)
	}
	if !strings.Contains(stdout.String(), admin+"/ui/setup?token=rsu_") {
		t.Errorf("the first-run link does not point at the admin address %s:\n%s", admin, stdout.String())
	}
	client := testClient(t)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	get := func(url string) int {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		url  string
		want int
	}{
		{public + "/ui/", 404},
		{public + "/ui/login", 404},
		{public + "/api/v1/directories", 404},
		{public + "/scim/v2/ServiceProviderConfig", 200},
		{admin + "/ui/", 303},
		{admin + "/ui/login", 200},
		{admin + "/api/v1/directories", 401},
	} {
		if got := get(c.url); got != c.want {
			t.Errorf("GET %s: %d, want %d", c.url, got, c.want)
		}
	}
}
