package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/store/sqlite"
)

func TestFirstRunCreatesADirectoryAndPrintsAWorkingTokenOnce(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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

// TestServeStrict runs `roster serve` as Entra's group create meets it: by
// default the ADSCIM schema URN is ignored and logged at --log-level debug;
// --strict answers 400.
func TestServeStrict(t *testing.T) {
	const token = "serve-strict-test-token-0123456789abcdef"
	const adscim = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
	group := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","` + adscim + `"],"displayName":"Sales"}`
	for _, tc := range []struct {
		name   string
		args   []string
		status int
		logged bool
	}{
		{"lenient by default, logging what it ignored at debug level", []string{"--log-level", "debug"}, http.StatusCreated, true},
		{"lenient at the default log level logs nothing of it", nil, http.StatusCreated, false},
		{"strict refuses", []string{"--strict", "--log-level", "debug"}, http.StatusBadRequest, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			var logs syncBuffer
			cmd := newRootCommand(env{"ROSTER_TOKEN": token}.get)
			cmd.SetOut(io.Discard)
			cmd.SetErr(&logs)
			cmd.SetArgs(append([]string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "roster.db")}, tc.args...))
			done := make(chan error, 1)
			go func() { done <- cmd.ExecuteContext(ctx) }()
			stopped := false
			stop := func() {
				if !stopped {
					stopped = true
					cancel()
					if err := <-done; err != nil {
						t.Errorf("serve: %v", err)
					}
				}
			}
			defer stop()
			url := serveURL(t, &logs, done)
			req, _ := http.NewRequest(http.MethodPost, url+"/Groups", strings.NewReader(group))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/scim+json")
			resp, err := testClient(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("POST /Groups answered %d %s, want %d", resp.StatusCode, body, tc.status)
			}
			stop() // the log is buffered: all of it is written once serve ends
			if logged := strings.Contains(logs.String(), adscim); logged != tc.logged {
				t.Errorf("the log mentions the ignored URN: %v, want %v:\n%s", logged, tc.logged, logs.String())
			}
		})
	}
	cmd := newRootCommand(noEnv)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SetArgs([]string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "roster.db"), "--log-level", "loud"})
	if err := cmd.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), "--log-level") {
		t.Errorf("--log-level loud: got %v, want an error naming --log-level", err)
	}
}

// serveURL waits for `roster serve` to log the URL it serves at. done
// receives what serve returned; if it stops early, serveURL puts that back.
func serveURL(t *testing.T, logs *syncBuffer, done chan error) string {
	t.Helper()
	re := regexp.MustCompile(`url=(http://127\.0\.0\.1:[0-9]+/scim/v2)`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("serve stopped: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeSaysItStoppedOnSIGTERM sends SIGTERM to a roster serve
// process while a request is in flight: the request is answered, and the
// server logs one line saying why it stopped, how many requests it
// drained and how long that took, and exits 0.
func TestServeSaysItStoppedOnSIGTERM(t *testing.T) {
	t.Parallel()
	const token = "stop-test-token-0123456789abcdef0123"
	logs := &syncBuffer{}
	cmd := exec.Command(rosterCommand(t), "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "roster.db"))
	cmd.Env = []string{"ROSTER_TOKEN=" + token, quickExit()}
	cmd.Stdout, cmd.Stderr = io.Discard, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	addr := waitFor(t, logs, regexp.MustCompile(`url=http://(127\.0\.0\.1:[0-9]+)/scim/v2`), exited)

	// A request in flight: with Expect: 100-continue the server answers
	// "100 Continue" once its handler reads the body, which the test then
	// holds back until the server is stopping.
	body := `{"userName":"alice"}`
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /scim/v2/Users HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/scim+json\r\n"+
		"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", addr, token, len(body))
	r := bufio.NewReader(conn)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("the server answered %q, %v; want 100 Continue", line, err)
	}
	r.ReadString('\n') // the blank line after it

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The server is stopping once it no longer accepts connections.
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		select {
		case err := <-exited:
			t.Fatalf("roster serve exited (%v) with a request in flight\n%s", err, logs.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	io.WriteString(conn, body)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("the request in flight at SIGTERM: %v, %v; want 201", resp, err)
	}
	resp.Body.Close()
	conn.Close()
	if err := <-exited; err != nil {
		t.Fatalf("roster serve exited with %v after SIGTERM, want 0\n%s", err, logs.String())
	}
	stopped := regexp.MustCompile(`(?m)^.*msg=stopped reason="terminated signal received" requests_drained=1 took=[0-9.]+[mµn]?s$`)
	if n := len(stopped.FindAllString(logs.String(), -1)); n != 1 {
		t.Fatalf("the log holds %d lines saying it stopped on SIGTERM after draining one request, want one:\n%s", n, logs.String())
	}
}
