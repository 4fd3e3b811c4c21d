package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/client/patch"
)

// misbehaving starts a test server with h as its handler and returns a
// client of it with short backoffs (4 retries, 1–10 ms).
func misbehaving(t *testing.T, h http.HandlerFunc, opts ...client.Option) *client.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, append([]client.Option{client.WithRetries(4, time.Millisecond, 10*time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeSCIM(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func userJSON(i int) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u%03d","userName":"user%03d"}`, i, i)
}

// counter counts requests by "METHOD /path".
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(r *http.Request) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[r.Method+" "+r.URL.Path]++
	return c.n[r.Method+" "+r.URL.Path]
}

func (c *counter) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

// hangUp closes the connection without an answer, as a crashing server
// or a proxy resetting it does.
func hangUp(t *testing.T, w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	conn.Close()
}

func TestRetryAfterIsWaitedFor(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter func() string
		atLeast    time.Duration
	}{
		{"in seconds", func() string { return "1" }, 900 * time.Millisecond},
		// An HTTP date has whole seconds: two seconds ahead is one to two.
		{"as an HTTP date", func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }, 900 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cnt counter
			var first, second time.Time
			c := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
				switch cnt.add(r) {
				case 1:
					first = time.Now()
					w.Header().Set("Retry-After", tc.retryAfter())
					writeSCIM(w, http.StatusTooManyRequests, `{"status":"429","detail":"slow down"}`)
				default:
					second = time.Now()
					writeSCIM(w, http.StatusCreated, userJSON(1))
				}
			}, client.WithRetries(2, time.Millisecond, 3*time.Second))
			// A 429 means the server did nothing: even a POST is sent again.
			u, err := c.Users.Create(context.Background(), &client.User{UserName: "user001"})
			if err != nil || u.ID != "u001" {
				t.Fatalf("Create: %+v, %v", u, err)
			}
			if n := cnt.get("POST /Users"); n != 2 {
				t.Fatalf("%d POSTs, want 2", n)
			}
			if gap := second.Sub(first); gap < tc.atLeast {
				t.Fatalf("retried after %v, want at least %v", gap, tc.atLeast)
			}
		})
	}
}

func TestRetryAfterLongerThanTheBackoffIsReturned(t *testing.T) {
	var cnt counter
	c := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
		cnt.add(r)
		w.Header().Set("Retry-After", "3600")
		writeSCIM(w, http.StatusTooManyRequests, `{"status":"429","detail":"come back in an hour"}`)
	})
	start := time.Now()
	_, err := c.Users.Get(context.Background(), "u1")
	var ce *client.Error
	if !errors.Is(err, client.ErrTooManyRequests) || !errors.As(err, &ce) || ce.RetryAfter != time.Hour {
		t.Fatalf("got %v, want ErrTooManyRequests with RetryAfter 1h", err)
	}
	if n := cnt.get("GET /Users/u1"); n != 1 || time.Since(start) > 5*time.Second {
		t.Fatalf("%d GETs in %v, want 1 at once", n, time.Since(start))
	}
}

func TestServiceUnavailableIsRetried(t *testing.T) {
	var cnt counter
	c := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && cnt.add(r) <= 3 {
			writeSCIM(w, http.StatusServiceUnavailable, `{"status":"503","detail":"draining"}`)
			return
		}
		if r.Method == http.MethodGet {
			cnt.add(r)
			writeSCIM(w, http.StatusServiceUnavailable, `{"status":"503","detail":"down"}`)
			return
		}
		writeSCIM(w, http.StatusCreated, userJSON(1))
	})
	ctx := context.Background()
	if _, err := c.Users.Create(ctx, &client.User{UserName: "user001"}); err != nil {
		t.Fatal(err)
	}
	if n := cnt.get("POST /Users"); n != 4 {
		t.Fatalf("%d POSTs, want 3 refused and 1 answered", n)
	}
	// Retries run out: the last answer is returned.
	if _, err := c.Users.Get(ctx, "u1"); client.StatusOf(err) != http.StatusServiceUnavailable {
		t.Fatalf("got %v, want the 503", err)
	}
	if n := cnt.get("GET /Users/u1"); n != 5 {
		t.Fatalf("%d GETs, want 1 and 4 retries", n)
	}
}

func TestGatewayErrorsRetryReadsButNotCreates(t *testing.T) {
	for _, status := range []int{http.StatusBadGateway, http.StatusGatewayTimeout} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			var cnt counter
			c := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
				if n := cnt.add(r); r.Method == http.MethodPost || n <= 2 {
					w.Header().Set("Content-Type", "text/html")
					w.WriteHeader(status)
					fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body>nginx</body></html>", status, http.StatusText(status))
					return
				}
				writeSCIM(w, http.StatusOK, userJSON(1))
			})
			ctx := context.Background()
			if u, err := c.Users.Get(ctx, "u001"); err != nil || u.UserName != "user001" {
				t.Fatalf("Get: %+v, %v", u, err)
			}
			if n := cnt.get("GET /Users/u001"); n != 3 {
				t.Fatalf("%d GETs, want 2 failed and 1 answered", n)
			}
			// The gateway may have passed the POST on: sending it again
			// could create the user twice.
			_, err := c.Users.Create(ctx, &client.User{UserName: "user001"})
			var ce *client.Error
			if !errors.As(err, &ce) || ce.Status != status || !strings.Contains(ce.Detail, http.StatusText(status)) {
				t.Fatalf("Create: %v, want the %d with the page's title", err, status)
			}
			if n := cnt.get("POST /Users"); n != 1 {
				t.Fatalf("%d POSTs, want exactly 1", n)
			}
		})
	}
}

func TestBrokenConnections(t *testing.T) {
	var cnt counter
	c := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
		if n := cnt.add(r); r.Method == http.MethodPost || n <= 2 {
			hangUp(t, w)
			return
		}
		writeSCIM(w, http.StatusOK, userJSON(1))
	})
	ctx := context.Background()
	if u, err := c.Users.Get(ctx, "u001"); err != nil || u.ID != "u001" {
		t.Fatalf("Get: %+v, %v", u, err)
	}
	if n := cnt.get("GET /Users/u001"); n < 3 {
		t.Fatalf("%d GETs reached the server, want at least 3", n)
	}
	// The connection broke after the server read the POST: it may have
	// created the user, so the client must not send it again.
	if _, err := c.Users.Create(ctx, &client.User{UserName: "user001"}); err == nil || client.StatusOf(err) != 0 {
		t.Fatalf("Create: %v, want a connection error", err)
	}
	if n := cnt.get("POST /Users"); n != 1 {
		t.Fatalf("%d POSTs, want exactly 1", n)
	}
}

func TestRefusedConnectionsAreRetriedEvenForPOST(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	c, err := client.New(url, client.WithRetries(2, time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Users.Create(context.Background(), &client.User{UserName: "a"})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("got %v, want connection refused", err)
	}
}

func TestAnswersThatAreNotJSON(t *testing.T) {
	c := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/Users/u1" {
			w.WriteHeader(http.StatusForbidden)
		}
		io.WriteString(w, "<!doctype html><html><head>\n<title>\n  Sign in – Example SSO\n</title></head><body><form>...</form></body></html>")
	})
	ctx := context.Background()
	// A 200 login page in place of a resource or a list.
	_, err := c.Users.Get(ctx, "u2")
	if err == nil || !strings.Contains(err.Error(), "text/html") || !strings.Contains(err.Error(), "Sign in – Example SSO") {
		t.Fatalf("Get: %v, want an error naming text/html and the page's title", err)
	}
	if _, err := c.Users.List(ctx, client.Query{}); err == nil || !strings.Contains(err.Error(), "not SCIM JSON") {
		t.Fatalf("List: %v", err)
	}
	// An error status with an HTML page keeps its status for errors.Is.
	_, err = c.Users.Get(ctx, "u1")
	var ce *client.Error
	if !errors.Is(err, client.ErrForbidden) || !errors.As(err, &ce) || !strings.Contains(ce.Detail, "text/html answer, not SCIM JSON: Sign in") {
		t.Fatalf("Get: %v, want ErrForbidden saying what came back", err)
	}
}

// pager answers GET /Users from n users through page, which gets the
// startIndex and count asked for and returns the resources' indexes
// (0-based), totalResults and the startIndex to answer.
func pager(t *testing.T, spc string, page func(start, count int) (idx []int, total, startIndex int)) (*client.Client, *counter) {
	t.Helper()
	var cnt counter
	c := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
		if cnt.add(r) > 100 {
			t.Errorf("more than 100 pages asked for: All loops")
			writeSCIM(w, http.StatusBadRequest, `{"status":"400","detail":"stop"}`)
			return
		}
		if r.URL.Path == "/ServiceProviderConfig" {
			if spc == "" {
				http.NotFound(w, r)
				return
			}
			writeSCIM(w, http.StatusOK, spc)
			return
		}
		start, _ := strconv.Atoi(r.URL.Query().Get("startIndex"))
		count, _ := strconv.Atoi(r.URL.Query().Get("count"))
		idx, total, si := page(start, count)
		res := make([]string, len(idx))
		for i, j := range idx {
			res[i] = userJSON(j)
		}
		writeSCIM(w, http.StatusOK, fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":%d,"startIndex":%d,"itemsPerPage":%d,"Resources":[%s]}`,
			total, si, len(idx), strings.Join(res, ",")))
	})
	return c, &cnt
}

// indexes returns the 0-based indexes of users start..start+count-1
// (1-based start) of n.
func indexes(start, count, n int) []int {
	var out []int
	for i := start - 1; i < n && len(out) < count; i++ {
		out = append(out, i)
	}
	return out
}

// drain lists every user through All, but no more than 1,000, so that a
// client that loops ends the test instead of hanging it.
func drain(t *testing.T, c *client.Client, q client.Query) (names []string, err error) {
	t.Helper()
	for u, err := range c.Users.All(context.Background(), q) {
		if err != nil {
			return names, err
		}
		if names = append(names, u.UserName); len(names) > 1000 {
			t.Fatalf("All went on past 1,000 users: it loops")
		}
	}
	return names, nil
}

func TestAllWithServersThatPageBadly(t *testing.T) {
	const n = 25
	for _, tc := range []struct {
		name    string
		page    func(start, count int) ([]int, int, int)
		want    int    // users listed
		wantErr string // "" for none
	}{
		{"pages smaller than asked", func(start, count int) ([]int, int, int) {
			return indexes(start, min(count, 7), n), n, start
		}, n, ""},
		{"a page of one at a time", func(start, count int) ([]int, int, int) {
			return indexes(start, 1, n), n, start
		}, n, ""},
		{"totalResults larger than what exists", func(start, count int) ([]int, int, int) {
			return indexes(start, count, n), n + 15, start
		}, n, "empty page at startIndex 26 of 40"},
		{"an empty page before the end", func(start, count int) ([]int, int, int) {
			if start > 10 {
				return nil, n, start
			}
			return indexes(start, count, n), n, start
		}, 10, "empty page at startIndex 11 of 25"},
		{"startIndex ignored, page 1 again", func(start, count int) ([]int, int, int) {
			return indexes(1, count, n), n, 1
		}, 10, "asked for startIndex 11, the server answered startIndex 1"},
		{"startIndex ignored but echoed", func(start, count int) ([]int, int, int) {
			return indexes(1, count, n), n, start
		}, 10, "the same page again"},
		{"startIndex ignored, no startIndex answered", func(start, count int) ([]int, int, int) {
			return indexes(1, count, n), n, 0
		}, 10, "the same page again"},
		{"users deleted while listing", func(start, count int) ([]int, int, int) {
			if start > 1 {
				return nil, 10, start // the total now says these were all
			}
			return indexes(start, count, n), n, start
		}, 10, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, cnt := pager(t, "", tc.page)
			names, err := drain(t, c, client.Query{Count: 10})
			if len(names) != tc.want {
				t.Errorf("listed %d users, want %d", len(names), tc.want)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
			seen := map[string]bool{}
			for _, name := range names {
				if seen[name] {
					t.Errorf("%s listed twice", name)
				}
				seen[name] = true
			}
			if pages := cnt.get("GET /Users"); pages > n+1 {
				t.Errorf("%d pages asked for", pages)
			}
		})
	}
}

func TestAllWithCursorsThatLoop(t *testing.T) {
	const spc = `{"patch":{"supported":true},"pagination":{"cursor":true,"index":true}}`
	for _, tc := range []struct {
		name    string
		next    func(cursor string) (idx []int, next string)
		want    int
		wantErr string
	}{
		{"well", func(cursor string) ([]int, string) {
			k, _ := strconv.Atoi(cursor)
			if k >= 20 {
				return indexes(k+1, 10, 25), ""
			}
			return indexes(k+1, 10, 25), strconv.Itoa(k + 10)
		}, 25, ""},
		{"the same cursor back", func(cursor string) ([]int, string) {
			if cursor == "" {
				return indexes(1, 10, 25), "abc"
			}
			return indexes(11, 10, 25), "abc"
		}, 20, "the cursor it was sent"},
		{"empty pages forever", func(cursor string) ([]int, string) {
			if cursor == "" {
				return indexes(1, 10, 25), "c0"
			}
			return nil, cursor + "x"
		}, 10, "empty pages in a row"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pages atomic.Int32
			c := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
				if pages.Add(1) > 100 {
					t.Errorf("more than 100 pages asked for: All loops")
					writeSCIM(w, http.StatusBadRequest, `{"status":"400","detail":"stop"}`)
					return
				}
				if r.URL.Path == "/ServiceProviderConfig" {
					writeSCIM(w, http.StatusOK, spc)
					return
				}
				if !r.URL.Query().Has("cursor") || r.URL.Query().Has("startIndex") {
					t.Errorf("not a cursor request: %s", r.URL.RawQuery)
				}
				idx, next := tc.next(r.URL.Query().Get("cursor"))
				res := make([]string, len(idx))
				for i, j := range idx {
					res[i] = userJSON(j)
				}
				writeSCIM(w, http.StatusOK, fmt.Sprintf(`{"totalResults":25,"itemsPerPage":%d,"nextCursor":%q,"Resources":[%s]}`,
					len(idx), next, strings.Join(res, ",")))
			})
			names, err := drain(t, c, client.Query{Count: 10})
			if len(names) != tc.want {
				t.Errorf("listed %d users, want %d", len(names), tc.want)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestAllHonoursMaxResults(t *testing.T) {
	const n = 23
	for _, tc := range []struct {
		count int
		spc   string
	}{
		{0, `{"patch":{"supported":true},"filter":{"supported":true,"maxResults":5}}`},
		{3, `{"patch":{"supported":true},"filter":{"supported":true,"maxResults":5}}`},
		{5, `{"patch":{"supported":true},"filter":{"supported":true,"maxResults":5}}`},
		{50, `{"patch":{"supported":true},"filter":{"supported":true,"maxResults":5}}`},
		{50, `{"patch":{"supported":true},"filter":{"supported":true,"maxResults":1000},"pagination":{"index":true,"maxPageSize":5}}`},
	} {
		count := tc.count
		t.Run(fmt.Sprint(count, tc.spc), func(t *testing.T) {
			var asked []int
			var mu sync.Mutex
			c, _ := pager(t, tc.spc, func(start, count int) ([]int, int, int) {
				mu.Lock()
				asked = append(asked, count)
				mu.Unlock()
				return indexes(start, count, n), n, start
			})
			names, err := drain(t, c, client.Query{Count: count})
			if err != nil || len(names) != n {
				t.Fatalf("listed %d users, %v", len(names), err)
			}
			want := 5
			if count > 0 && count < 5 {
				want = count
			}
			for _, a := range asked {
				if a != want {
					t.Fatalf("asked for counts %v, want %d each", asked, want)
				}
			}
		})
	}
}

func TestWithoutServiceProviderConfig(t *testing.T) {
	var cnt counter
	c := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
		cnt.add(r)
		switch {
		case r.URL.Path == "/Users/u001" && r.Method == http.MethodPatch:
			w.WriteHeader(http.StatusNoContent)
		case r.URL.Path == "/Users":
			writeSCIM(w, http.StatusOK, `{"totalResults":1,"startIndex":1,"itemsPerPage":1,"Resources":[`+userJSON(1)+`]}`)
		default:
			http.NotFound(w, r)
		}
	})
	ctx := context.Background()
	if err := c.Users.Deactivate(ctx, "u001"); err != nil {
		t.Fatal(err)
	}
	if err := c.Users.Activate(ctx, "u001"); err != nil {
		t.Fatal(err)
	}
	if names, err := drain(t, c, client.Query{}); err != nil || len(names) != 1 {
		t.Fatalf("All: %v, %v", names, err)
	}
	// The 404 is remembered, not asked again on every call.
	if n := cnt.get("GET /ServiceProviderConfig"); n != 1 {
		t.Fatalf("asked for the ServiceProviderConfig %d times", n)
	}
	if n := cnt.get("PATCH /Users/u001"); n != 2 {
		t.Fatalf("%d PATCHes, want 2", n)
	}
}

func TestPatchWithoutPatchSupportReplaces(t *testing.T) {
	var cnt counter
	var mu sync.Mutex
	var puts []map[string]any
	var ifMatch []string
	const user = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"id":"u001","userName":"alice","active":true,"emails":[{"value":"a@x.com","type":"work","primary":true}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"},
		"meta":{"resourceType":"User","version":"W/\"3\""}}`
	const group = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Eng",
		"members":[{"value":"u001"}],"meta":{"resourceType":"Group","version":"W/\"7\""}}`
	c := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
		cnt.add(r)
		switch {
		case r.URL.Path == "/ServiceProviderConfig":
			writeSCIM(w, http.StatusOK, `{"patch":{"supported":false},"etag":{"supported":true}}`)
		case r.Method == http.MethodPatch:
			t.Errorf("PATCH %s sent to a server without PATCH", r.URL.Path)
			writeSCIM(w, http.StatusNotImplemented, `{"status":"501"}`)
		case r.Method == http.MethodGet && r.URL.Path == "/Users/u001":
			writeSCIM(w, http.StatusOK, user)
		case r.Method == http.MethodGet && r.URL.Path == "/Groups/g1":
			writeSCIM(w, http.StatusOK, group)
		case r.Method == http.MethodPut:
			var body map[string]any
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				t.Error(err)
			}
			mu.Lock()
			puts, ifMatch = append(puts, body), append(ifMatch, r.Header.Get("If-Match"))
			mu.Unlock()
			out, _ := json.Marshal(body)
			writeSCIM(w, http.StatusOK, string(out))
		default:
			http.NotFound(w, r)
		}
	})
	ctx := context.Background()
	if err := c.Users.Deactivate(ctx, "u001"); err != nil {
		t.Fatal(err)
	}
	if err := c.Groups.AddMembers(ctx, "g1", "u002", "u003"); err != nil {
		t.Fatal(err)
	}
	if len(puts) != 2 {
		t.Fatalf("%d PUTs, want 2", len(puts))
	}
	u := puts[0]
	ent, _ := u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
	emails, _ := u["emails"].([]any)
	if u["active"] != false || u["userName"] != "alice" || u["id"] != "u001" || len(emails) != 1 || ent["department"] != "R&D" {
		t.Fatalf("PUT user body %v: want the user as read with active false", u)
	}
	if ifMatch[0] != `W/"3"` || ifMatch[1] != `W/"7"` {
		t.Fatalf("If-Match %q, want the versions read", ifMatch)
	}
	var members []string
	for _, m := range puts[1]["members"].([]any) {
		members = append(members, m.(map[string]any)["value"].(string))
	}
	if strings.Join(members, ",") != "u001,u002,u003" || puts[1]["displayName"] != "Eng" {
		t.Fatalf("PUT group body %v", puts[1])
	}

	// A version given by the caller is the one sent, not the one read.
	if _, err := c.Users.PatchIfMatch(ctx, "u001", `W/"2"`, patch.Replace("title", "x")); err != nil {
		t.Fatal(err)
	}
	if ifMatch[2] != `W/"2"` {
		t.Fatalf("If-Match %q, want the caller's", ifMatch[2])
	}
}

func TestConcurrentRequestsShareOneDiscovery(t *testing.T) {
	var spcs atomic.Int32
	c := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ServiceProviderConfig" {
			spcs.Add(1)
			writeSCIM(w, http.StatusOK, `{"patch":{"supported":true}}`)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := c.Users.Deactivate(context.Background(), "u1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := c.Users.Deactivate(context.Background(), "u1"); err != nil {
		t.Fatal(err)
	}
	if n := spcs.Load(); n < 1 || n > 8 {
		t.Fatalf("%d reads of the ServiceProviderConfig", n)
	}
}

func TestConcurrentCallersReuseConnections(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond) // so that the 8 overlap
		writeSCIM(w, http.StatusOK, userJSON(1))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// Bursts of 8 at once, as a sync's workers between pages: each burst
	// needs 8 connections, and finds them idle if the last one's were kept.
	for range 10 {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := c.Users.Get(context.Background(), "u001"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	if n := conns.Load(); n > 12 {
		t.Fatalf("%d connections for 10 bursts of 8: idle ones are closed instead of kept", n)
	}
}

func TestDeleteWhoseAnswerWasLost(t *testing.T) {
	var cnt counter
	c := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
		switch n := cnt.add(r); {
		case r.URL.Path == "/Users/gone":
			writeSCIM(w, http.StatusNotFound, `{"status":"404"}`)
		case n == 1:
			hangUp(t, w) // deleted, but the answer never left
		default:
			writeSCIM(w, http.StatusNotFound, `{"status":"404","detail":"no such user"}`)
		}
	})
	ctx := context.Background()
	if err := c.Users.Delete(ctx, "u001"); err != nil {
		t.Fatalf("Delete: %v, want success: the first attempt deleted", err)
	}
	if n := cnt.get("DELETE /Users/u001"); n != 2 {
		t.Fatalf("%d DELETEs, want 2", n)
	}
	// Without a lost answer, a 404 is a 404.
	if err := c.Users.Delete(ctx, "gone"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Delete of a missing user: %v", err)
	}
}

func TestRetryAfterPastTheDeadlineReturnsTheAnswer(t *testing.T) {
	var cnt counter
	c := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
		cnt.add(r)
		w.Header().Set("Retry-After", "2")
		writeSCIM(w, http.StatusServiceUnavailable, `{"status":"503","detail":"maintenance"}`)
	}, client.WithRetries(3, time.Millisecond, 5*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Users.Get(ctx, "u1")
	if client.StatusOf(err) != http.StatusServiceUnavailable || !strings.Contains(err.Error(), "maintenance") {
		t.Fatalf("got %v, want the 503 the server answered", err)
	}
	if n := cnt.get("GET /Users/u1"); n != 1 || time.Since(start) > 400*time.Millisecond {
		t.Fatalf("%d GETs in %v, want 1 and no waiting for a retry that cannot come", n, time.Since(start))
	}
}

func TestLookupsOnAServerThatIgnoresFilters(t *testing.T) {
	c := misbehaving(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/Users":
			writeSCIM(w, http.StatusOK, `{"totalResults":3,"startIndex":1,"itemsPerPage":2,"Resources":[`+userJSON(1)+`,`+userJSON(2)+`]}`)
		case "/Groups":
			writeSCIM(w, http.StatusOK, `{"totalResults":2,"startIndex":1,"itemsPerPage":2,"Resources":[{"id":"g1","displayName":"Sales"},{"id":"g2","displayName":"Ops"}]}`)
		default:
			http.NotFound(w, r)
		}
	})
	ctx := context.Background()
	if u, err := c.Users.ByUserName(ctx, "USER002"); err != nil || u.ID != "u002" {
		t.Fatalf("ByUserName of the second answered: %+v, %v", u, err)
	}
	// The first user answered is not the one asked for: not found, not
	// someone else to deactivate.
	if u, err := c.Users.ByUserName(ctx, "user003"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("ByUserName of an absent user: %+v, %v", u, err)
	}
	if g, err := c.Groups.ByDisplayName(ctx, "ops"); err != nil || g.ID != "g2" {
		t.Fatalf("ByDisplayName: %+v, %v", g, err)
	}
	if g, err := c.Groups.ByDisplayName(ctx, "Marketing"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("ByDisplayName of an absent group: %+v, %v", g, err)
	}
}
