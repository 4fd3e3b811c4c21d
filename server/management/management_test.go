package management_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/server/management"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/postgres"
	"github.com/rosterhq/roster/store/sqlite"
)

// env is a Roster server (the SCIM API and the management API on one
// listener, as roster serve runs them) over a real store, with a
// management key.
type env struct {
	t   *testing.T
	st  store.Store
	url string
	key string
	// client sends requests through the server's own transport, not
	// http.DefaultTransport, whose idle connections any httptest server's
	// Close closes under the parallel tests' requests.
	client *http.Client
}

// forEachStore runs test on SQLite and on PostgreSQL (a database of the
// test's own), in parallel.
func forEachStore(t *testing.T, test func(t *testing.T, e *env)) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			var st store.Store
			var err error
			if kind == "postgres" {
				st, err = postgres.Open(context.Background(), pgtest.New(t))
			} else {
				st, err = sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "roster.db"))
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			_, key, err := st.CreateManagementKey(context.Background(), "app", time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			api := management.New(management.Config{Store: st, KeepAlive: 50 * time.Millisecond, Poll: 20 * time.Millisecond})
			srv := httptest.NewServer(server.New(server.Config{Store: st, RateLimit: -1,
				Handlers: map[string]http.Handler{management.BasePath + "/": api}}))
			t.Cleanup(srv.Close)
			test(t, &env{t: t, st: st, url: srv.URL, key: key, client: srv.Client()})
		})
	}
}

// do sends a request with a bearer token and returns the status and the
// body.
func (e *env) do(method, path, token, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// must sends a request that must answer want, and decodes its body into
// v (when not nil).
func (e *env) must(method, path, token, body string, want int, v any) {
	e.t.Helper()
	status, got := e.do(method, path, token, body)
	if status != want {
		e.t.Fatalf("%s %s: %d %s, want %d", method, path, status, got, want)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(got), v); err != nil {
			e.t.Fatalf("%s %s: %v in %s", method, path, err, got)
		}
	}
}

type eventsPage struct {
	Data      []store.Event `json:"data"`
	NextAfter int64         `json:"next_after"`
}

func types(events []store.Event) string {
	var s []string
	for _, e := range events {
		s = append(s, e.Type)
	}
	return strings.Join(s, " ")
}

// TestTheAppProvisionsADirectoryAndReadsItsEvents is the flow an app
// follows: a directory and a SCIM token through the API, the identity
// provider provisions with the token, the app reads what it did.
func TestTheAppProvisionsADirectoryAndReadsItsEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var d struct{ ID, Name, SCIMBaseURL string }
		e.must("POST", "/api/v1/directories", e.key, `{"name":"acme"}`, 201, &d)
		if d.ID == "" || d.Name != "acme" {
			t.Fatalf("created directory: %+v", d)
		}
		var tok struct{ ID, Name, Token string }
		e.must("POST", "/api/v1/directories/acme/tokens", e.key, `{"name":"okta"}`, 201, &tok)
		if !strings.HasPrefix(tok.Token, "rst_") || tok.Name != "okta" {
			t.Fatalf("created token: %+v", tok)
		}
		var user struct{ ID string }
		e.must("POST", "/scim/v2/Users", tok.Token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@acme.com"}`, 201, &user)
		e.must("PATCH", "/scim/v2/Users/"+user.ID, tok.Token,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`, 200, nil)

		var page eventsPage
		e.must("GET", "/api/v1/events?directory=acme", e.key, "", 200, &page)
		if got := types(page.Data); got != "directory.created token.created user.created user.deactivated" {
			t.Fatalf("events: %s", got)
		}
		deact := page.Data[3]
		var data struct{ ID string }
		json.Unmarshal(deact.Data, &data)
		if deact.Context.Source != "scim" || deact.Context.Token != "okta" || deact.Context.RequestID == "" || data.ID != user.ID {
			t.Errorf("user.deactivated: %+v", deact)
		}
		if page.Data[0].Context.Source != "api" || page.Data[0].Context.Token != "app" {
			t.Errorf("directory.created context: %+v", page.Data[0].Context)
		}
		if strings.Contains(fmt.Sprint(page), tok.Token) {
			t.Error("an event holds the token's secret")
		}
		if page.NextAfter != 4 {
			t.Errorf("next_after = %d, want 4", page.NextAfter)
		}

		// Paging by after and limit, and a filter by type, by the
		// directory's id.
		e.must("GET", "/api/v1/events?directory="+d.ID+"&after=1&limit=2", e.key, "", 200, &page)
		if got := types(page.Data); got != "token.created user.created" || page.NextAfter != 3 {
			t.Fatalf("after=1&limit=2: %s, next_after %d", got, page.NextAfter)
		}
		e.must("GET", "/api/v1/events?directory=acme&after=4", e.key, "", 200, &page)
		if len(page.Data) != 0 || page.NextAfter != 4 {
			t.Fatalf("after the last: %s, next_after %d", types(page.Data), page.NextAfter)
		}
		e.must("GET", "/api/v1/events?directory=acme&types=user.deactivated,user.reactivated", e.key, "", 200, &page)
		if got := types(page.Data); got != "user.deactivated" {
			t.Fatalf("types: %s", got)
		}
		// With types, next_after moves past the events that did not match,
		// so that the next call does not read them again.
		e.must("GET", "/api/v1/events?directory=acme&types=user.created", e.key, "", 200, &page)
		if got := types(page.Data); got != "user.created" || page.NextAfter != 4 {
			t.Fatalf("types=user.created: %s, next_after %d; want user.created, 4", got, page.NextAfter)
		}

		// The users, read through the API.
		var users struct {
			Data []map[string]any `json:"data"`
			Next string           `json:"next"`
		}
		e.must("POST", "/scim/v2/Users", tok.Token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@acme.com"}`, 201, nil)
		e.must("GET", "/api/v1/directories/acme/users?limit=1", e.key, "", 200, &users)
		if len(users.Data) != 1 || users.Data[0]["userName"] != "alice@acme.com" || users.Data[0]["active"] != false || users.Next == "" {
			t.Fatalf("users: %+v", users)
		}
		e.must("GET", "/api/v1/directories/acme/users?limit=1&after="+users.Next, e.key, "", 200, &users)
		if len(users.Data) != 1 || users.Data[0]["userName"] != "bob@acme.com" || users.Next != "" {
			t.Fatalf("the second page: %+v", users)
		}
		e.must("GET", "/api/v1/directories/acme/users/"+user.ID, e.key, "", 200, nil)

		// Revoking the token through the API shuts the identity provider
		// out; deleting the directory keeps its events.
		e.must("DELETE", "/api/v1/directories/acme/tokens/"+tok.ID, e.key, "", 204, nil)
		e.must("DELETE", "/api/v1/directories/acme", e.key, "", 204, nil)
		e.must("GET", "/api/v1/directories/acme", e.key, "", 404, nil)
		e.must("GET", "/api/v1/events?directory="+d.ID+"&after=5", e.key, "", 200, &page)
		if got := types(page.Data); got != "token.revoked directory.deleted" {
			t.Fatalf("a deleted directory's last events: %s", got)
		}
	})
}

// TestKeysAndTokensAreApart holds that a SCIM token never opens the
// management API and a management key never the SCIM API.
func TestKeysAndTokensAreApart(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must("POST", "/api/v1/directories", e.key, `{"name":"acme"}`, 201, nil)
		var tok struct{ Token string }
		e.must("POST", "/api/v1/directories/acme/tokens", e.key, `{"name":"okta"}`, 201, &tok)
		for _, c := range []struct{ method, path, token string }{
			{"GET", "/api/v1/directories", ""},
			{"GET", "/api/v1/directories", tok.Token},
			{"GET", "/api/v1/events?directory=acme", tok.Token},
			{"POST", "/api/v1/directories/acme/tokens", tok.Token},
			{"GET", "/api/v1/directories", "rmk_not-a-key"},
			{"GET", "/scim/v2/Users", e.key},
		} {
			if status, body := e.do(c.method, c.path, c.token, `{"name":"x"}`); status != 401 {
				t.Errorf("%s %s with %.8s…: %d %s, want 401", c.method, c.path, c.token, status, body)
			}
		}
		if _, err := e.st.Directory(context.Background(), "x"); err == nil {
			t.Fatal("a refused request made a directory")
		}
		if err := e.st.RevokeManagementKey(context.Background(), "app"); err != nil {
			t.Fatal(err)
		}
		if status, _ := e.do("GET", "/api/v1/directories", e.key, ""); status != 401 {
			t.Errorf("a revoked key: %d, want 401", status)
		}
	})
}

// TestBadRequestsChangeNothing holds that the API answers a client's
// mistakes with a JSON error and the right status, and changes nothing.
func TestBadRequestsChangeNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must("POST", "/api/v1/directories", e.key, `{"name":"acme"}`, 201, nil)
		for _, c := range []struct {
			method, path, body string
			status             int
		}{
			{"POST", "/api/v1/directories", `{"name":`, 400},
			{"POST", "/api/v1/directories", `{"name":42}`, 400},
			{"POST", "/api/v1/directories", `{"name":"b","extra":1}`, 400},
			{"POST", "/api/v1/directories", `{"name":""}`, 400},
			{"POST", "/api/v1/directories", `{"name":"a\u0000b"}`, 400},
			{"POST", "/api/v1/directories", `{"name":"` + strings.Repeat("x", 300) + `"}`, 400},
			{"POST", "/api/v1/directories", `{"name":"b"} {"name":"c"}`, 400},
			{"POST", "/api/v1/directories", `{"name":"ACME"}`, 409},
			{"POST", "/api/v1/directories", `{"name":"` + strings.Repeat("x", 70<<10) + `"}`, 413},
			{"POST", "/api/v1/directories/nowhere/tokens", `{"name":"okta"}`, 404},
			{"POST", "/api/v1/directories/acme/tokens", `{"name":"okta","expires_in":-1}`, 400},
			{"DELETE", "/api/v1/directories/acme/tokens/nothing", ``, 404},
			{"GET", "/api/v1/events", ``, 400},
			{"GET", "/api/v1/events?directory=nowhere", ``, 404},
			{"GET", "/api/v1/events?directory=acme&after=-1", ``, 400},
			{"GET", "/api/v1/events?directory=acme&after=x", ``, 400},
			{"GET", "/api/v1/events?directory=acme&limit=0", ``, 400},
			{"GET", "/api/v1/events?directory=acme&limit=1001", ``, 400},
			{"GET", "/api/v1/events?directory=acme&types=user.exploded", ``, 400},
			{"GET", "/api/v1/directories/acme/users?after=x", ``, 400},
			{"GET", "/api/v1/directories/acme/users/nobody", ``, 404},
			{"GET", "/api/v1/nothing", ``, 404},
		} {
			status, body := e.do(c.method, c.path, e.key, c.body)
			var v struct{ Error string }
			if status != c.status || json.Unmarshal([]byte(body), &v) != nil || v.Error == "" {
				t.Errorf("%s %s %.40s: %d %s, want %d with a JSON error", c.method, c.path, c.body, status, body, c.status)
			}
		}
		var page eventsPage
		e.must("GET", "/api/v1/events?directory=acme", e.key, "", 200, &page)
		if got := types(page.Data); got != "directory.created" {
			t.Fatalf("bad requests changed something: %s", got)
		}
		var dirs struct{ Data []any }
		e.must("GET", "/api/v1/directories", e.key, "", 200, &dirs)
		if len(dirs.Data) != 1 {
			t.Fatalf("directories: %v", dirs.Data)
		}
	})
}

// sse is one Server-Sent Event.
type sse struct{ id, event, data string }

// readEvents reads a stream's events into a channel, comments dropped.
func readEvents(t *testing.T, body io.Reader) <-chan sse {
	out := make(chan sse, 100)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(body)
		sc.Buffer(nil, 1<<20)
		var cur sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur.data != "" {
					out <- cur
				}
				cur = sse{}
			case strings.HasPrefix(line, "id: "):
				cur.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				cur.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				cur.data = line[6:]
			}
		}
	}()
	return out
}

// next returns the stream's next event, failing after 10 s.
func next(t *testing.T, events <-chan sse) sse {
	t.Helper()
	select {
	case e, ok := <-events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event in 10 s")
	}
	return sse{}
}

// TestStreamResumesWithoutGaps holds that the stream sends each event as
// it commits, resumes after Last-Event-ID, and never sends another
// directory's events.
func TestStreamResumesWithoutGaps(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must("POST", "/api/v1/directories", e.key, `{"name":"acme"}`, 201, nil)
		e.must("POST", "/api/v1/directories", e.key, `{"name":"globex"}`, 201, nil)
		var tok, other struct{ Token string }
		e.must("POST", "/api/v1/directories/acme/tokens", e.key, `{"name":"okta"}`, 201, &tok)
		e.must("POST", "/api/v1/directories/globex/tokens", e.key, `{"name":"entra"}`, 201, &other)

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/api/v1/events/stream?directory=acme", nil)
		req.Header.Set("Authorization", "Bearer "+e.key)
		req.Header.Set("Last-Event-ID", "1")
		res, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		events := readEvents(t, res.Body)
		if got := next(t, events); got.id != "2" || got.event != "token.created" {
			t.Fatalf("after Last-Event-ID 1: %+v", got)
		}
		// Another directory's change, then this one's: only this one's
		// arrives, at once.
		e.must("POST", "/scim/v2/Users", other.Token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob"}`, 201, nil)
		start := time.Now()
		e.must("POST", "/scim/v2/Users", tok.Token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice"}`, 201, nil)
		got := next(t, events)
		var ev store.Event
		if err := json.Unmarshal([]byte(got.data), &ev); err != nil {
			t.Fatal(err)
		}
		if got.id != "3" || got.event != "user.created" || ev.Seq != 3 || ev.Type != "user.created" || !strings.Contains(got.data, `"alice"`) {
			t.Fatalf("the next event: %+v", got)
		}
		t.Logf("from the create's answer to the event: %v", time.Since(start))
	})
}
