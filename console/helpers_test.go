package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlite"
)

// env is a SCIM server with the console mounted as roster serve mounts
// it, over a SQLite store of the test's own, with its request log
// written.
type env struct {
	st  *sqlite.Store
	url string
	// client is the server's own (httptest's Client): a test's requests
	// go through its transport, not http.DefaultTransport, whose idle
	// connections every httptest server's Close closes, failing a request
	// of a parallel test that takes one at that moment.
	client *http.Client
}

func newEnv(t testing.TB, cfg console.Config, tls bool) *env {
	t.Helper()
	ctx := context.Background()
	st := openStore(t)
	cfg.Store = st
	reqLog := console.NewRequestLogger(st, console.RequestLoggerConfig{Flush: 10 * time.Millisecond})
	logCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { reqLog.Run(logCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	ui := console.New(cfg)
	h := server.New(server.Config{Store: st, PasswordIterations: 1000, RateLimit: -1, AuthFailureLimit: -1, RequestLog: reqLog,
		Handlers: map[string]http.Handler{console.BasePath + "/": ui, console.BasePath: ui}})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return &env{st: st, url: srv.URL, client: srv.Client()}
}

// openStore opens a SQLite store of the test's own, closed when it ends.
func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// browser is an HTTP client with cookies that does not follow redirects.
type browser struct {
	t    testing.TB
	e    *env
	http *http.Client
}

func (e *env) browser(t testing.TB, client *http.Client) *browser {
	jar, _ := cookiejar.New(nil)
	c := *client
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, e: e, http: &c}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) get(path string) page {
	b.t.Helper()
	return b.do("GET", path, nil)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	return b.do("POST", path, form)
}

func (b *browser) do(method, path string, form url.Values) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.url+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of a page's forms.
func (p page) csrf(t testing.TB) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("the page has no CSRF token:\n%s", p.body)
	}
	return m[1]
}

func (p page) must(t testing.TB, status int) page {
	t.Helper()
	if p.status != status {
		t.Fatalf("got %d, want %d:\n%s", p.status, status, p.body)
	}
	return p
}

// login makes an admin with a password through a setup link and returns
// a browser logged in as it.
func (e *env) login(t testing.TB, client *http.Client) *browser {
	t.Helper()
	link := e.setupLink(t)
	b := e.browser(t, client)
	p := b.get("/ui/setup?token="+url.QueryEscape(link)).must(t, 200)
	b.post("/ui/setup", url.Values{"csrf": {p.csrf(t)}, "token": {link}, "password": {testPassword}, "confirm": {testPassword}}).must(t, 303)
	return b
}

// setupLink makes the admin ada, without a password yet, and returns
// its setup link, valid for an hour.
func (e *env) setupLink(t testing.TB) string {
	t.Helper()
	_, link, err := e.st.AdminSetup(context.Background(), "ada", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// createDirectory makes a directory named name in the env's store.
func (e *env) createDirectory(t testing.TB, name string) store.Directory {
	t.Helper()
	d, err := e.st.CreateDirectory(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const testPassword = "correct horse battery staple"
