package server_test

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/server"
)

// syncBuffer is a buffer that the server's goroutines may log to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestABodyTheClientBreaksIsAClientError: a request body that the client
// truncates, stalls past the read timeout or sends in malformed chunks is
// answered 400 over a real connection, changes nothing, is logged at
// debug level (never as an ERROR, which would page someone) and is counted
// by reason apart from the server's faults.
func TestABodyTheClientBreaksIsAClientError(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		st := openStore(t)
		tenant := (&api{st: st}).tenant(t, "broken-bodies") // a name of its own on the package's shared database, run after run
		dir, token := tenant.dir, tenant.token
		logs := &syncBuffer{}
		logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		srv := httptest.NewUnstartedServer(server.New(server.Config{Store: st, Logger: logger, RateLimit: -1, PasswordIterations: 1000}))
		srv.Config.ReadTimeout = 500 * time.Millisecond
		srv.Start()
		defer srv.Close()
		head := func(framing string) string {
			return "POST /scim/v2/Users HTTP/1.1\r\nHost: roster\r\nAuthorization: Bearer " + token +
				"\r\nContent-Type: application/scim+json\r\n" + framing + "\r\n\r\n"
		}
		body := `{"userName":"ann","password":"secret"}`
		for _, tt := range []struct {
			name, reason, send string
			stall              bool // keep the connection open instead of closing its sending side
		}{
			{"a body shorter than its Content-Length", "aborted", head("Content-Length: 100") + body, false},
			{"a chunked body that ends mid-chunk", "aborted", head("Transfer-Encoding: chunked") + "40\r\n" + body, false},
			{"a malformed chunk length", "malformed", head("Transfer-Encoding: chunked") + "zz\r\n" + body + "\r\n0\r\n\r\n", false},
			{"a chunk without its line ending", "malformed", head("Transfer-Encoding: chunked") + "27\r\n" + body + "XX0\r\n\r\n", false},
			{"a body that stalls past the read timeout", "timeout", head("Content-Length: 100") + body, true},
		} {
			t.Run(tt.name, func(t *testing.T) {
				conn, err := net.Dial("tcp", srv.Listener.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.WriteString(conn, tt.send); err != nil {
					t.Fatal(err)
				}
				if !tt.stall {
					conn.(*net.TCPConn).CloseWrite()
				}
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatalf("no response: %v", err)
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(data), `"status":"400"`) {
					t.Fatalf("%d %s; want a SCIM 400", resp.StatusCode, data)
				}
				if !resp.Close {
					t.Error("the connection stays open after a body whose framing is broken")
				}
				if !strings.Contains(logs.String(), "reason="+tt.reason) {
					t.Errorf("no debug line with reason=%s in the log:\n%s", tt.reason, logs)
				}
			})
		}
		if strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "level=WARN") {
			t.Errorf("broken bodies were logged above debug:\n%s", logs)
		}
		if strings.Contains(logs.String(), "secret") {
			t.Errorf("the log holds a body's password:\n%s", logs)
		}
		resp, err := srv.Client().Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			`roster_http_broken_request_bodies_total{reason="aborted"} 2`,
			`roster_http_broken_request_bodies_total{reason="malformed"} 2`,
			`roster_http_broken_request_bodies_total{reason="timeout"} 1`,
			`roster_http_requests_total{method="POST",route="POST /scim/v2/Users",status="400"} 5`,
		} {
			if !strings.Contains(string(metrics), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(string(metrics), `status="500"`) {
			t.Error("/metrics counts a 500")
		}
		a := &api{base: srv.URL + "/scim/v2", st: st, dir: dir, token: token, http: srv.Client()}
		if total, _ := a.list(t, "/Users"); total != 0 {
			t.Fatalf("%d users after broken bodies; want none", total)
		}
	})
}
