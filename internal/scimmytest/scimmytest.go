package scimmytest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Token is the bearer token the server takes.
const Token = "scimmy-token"

// Start starts testdata/server.js with node on a free loopback port,
// installing its packages first when they are missing or older than its
// package-lock.json, and returns its SCIM base URL (…/scim) and the
// bearer token it takes. The server stops when the test ends.
func Start(t testing.TB) (baseURL, token string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		need(t, "scimmy server: node is not installed (apt-get install nodejs npm)")
	}
	dir := testdata(t)
	install(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "server.js", "0", Token)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("scimmy server: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("scimmy server: start node: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	// The server says where it listens once it does: no sleep, no poll.
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				ready <- u
			}
		}
		close(ready)
	}()
	select {
	case u, ok := <-ready:
		if !ok {
			t.Fatalf("scimmy server exited before it listened: %s", stderr.String())
		}
		return u, Token
	case <-time.After(30 * time.Second):
		t.Fatalf("scimmy server did not listen within 30 s: %s", stderr.String())
	}
	return "", ""
}

// testdata returns the absolute path of this package's testdata, which
// the tests of other packages, run in their own directories, need.
func testdata(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		t.Fatalf("scimmy server: cannot find internal/scimmytest/testdata from %q (built with -trimpath?)", file)
	}
	return filepath.Join(filepath.Dir(file), "testdata")
}

// install runs npm ci for dir unless its node_modules is newer than its
// package-lock.json. The packages of several test processes (go test
// runs packages at once) may install at once: each installs into a
// directory of its own and renames its node_modules into place, which
// only the first rename does.
func install(t testing.TB, dir string) {
	t.Helper()
	if installed(t, dir) {
		return
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		need(t, "scimmy server: npm is not installed (apt-get install npm)")
	}
	tmp, err := os.MkdirTemp(dir, ".install-")
	if err != nil {
		t.Fatalf("scimmy server: %v", err)
	}
	defer os.RemoveAll(tmp)
	for _, f := range []string{"package.json", "package-lock.json"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err == nil {
			err = os.WriteFile(filepath.Join(tmp, f), data, 0o644)
		}
		if err != nil {
			t.Fatalf("scimmy server: copy %s: %v", f, err)
		}
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		need(t, "scimmy server: npm ci: %v\n%s", err, out)
	}
	modules := filepath.Join(dir, "node_modules")
	if !installed(t, dir) {
		// Stale: moved aside first, as a directory is renamed only onto
		// none.
		if _, err := os.Stat(modules); err == nil {
			old := fmt.Sprintf("%s.old-%d", modules, os.Getpid())
			if err := os.Rename(modules, old); err == nil {
				defer os.RemoveAll(old)
			}
		}
	}
	if err := os.Rename(filepath.Join(tmp, "node_modules"), modules); err != nil && !installed(t, dir) {
		t.Fatalf("scimmy server: install node_modules: %v", err)
	}
}

// installed reports whether dir's node_modules is as new as its
// package-lock.json.
func installed(t testing.TB, dir string) bool {
	t.Helper()
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		t.Fatalf("scimmy server: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	return err == nil && !st.ModTime().Before(lock.ModTime())
}

// need skips a test that needs something missing, or fails it under CI,
// which must have everything.
func need(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
