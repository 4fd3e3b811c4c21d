package conformance_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/conformance"
)

// do sends a request straight to a Roster handler with its token and
// returns the answer.
func do(t *testing.T, rs roster, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+rs.token)
	req.Header.Set("Content-Type", "application/scim+json")
	rec := httptest.NewRecorder()
	rs.handler.ServeHTTP(rec, req)
	return rec
}

// foreignUser creates a user the run did not create, as a real server
// holds, and returns its id.
func foreignUser(t *testing.T, rs roster) string {
	t.Helper()
	rec := do(t, rs, http.MethodPost, "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@example.com"}`)
	var u struct{ ID string }
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &u) != nil || u.ID == "" {
		t.Fatalf("create the foreign user: %d %s", rec.Code, rec.Body)
	}
	return u.ID
}

var swAlone = regexp.MustCompile(`^userName sw "[^"]*"$`)

// TestTheCleanupDeletesOnlyWhatCarriesTheRunPrefix puts a server bug in
// front of Roster that points the cleanup at a user the run did not
// create: the user survives the run.
func TestTheCleanupDeletesOnlyWhatCarriesTheRunPrefix(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault func(next http.Handler, foreign string) http.Handler
		left  bool // the cleanup reports the foreign user left
	}{
		{
			name: "sw answers every user",
			fault: func(next http.Handler, _ string) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if q := r.URL.Query(); swAlone.MatchString(q.Get("filter")) {
						q.Set("filter", "userName pr")
						r.URL.RawQuery = q.Encode()
					}
					next.ServeHTTP(w, r)
				})
			},
		},
		{
			name: "a create answers another user's id",
			fault: func(next http.Handler, foreign string) http.Handler {
				var posts atomic.Int32
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method != http.MethodPost || r.URL.Path != "/scim/v2/Users" || posts.Add(1) != 1 {
						next.ServeHTTP(w, r)
						return
					}
					answer(next, w, r, func(rec *httptest.ResponseRecorder) {
						editJSON(rec, func(m map[string]any) { m["id"] = foreign })
					})
				})
			},
			left: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := newRoster(t)
			foreign := foreignUser(t, rs)
			rep := run(t, serve(t, tc.fault(rs.handler, foreign)), rs.token, conformance.Config{Only: []string{"users"}})
			if rec := do(t, rs, http.MethodGet, "/scim/v2/Users/"+foreign, ""); rec.Code != http.StatusOK {
				t.Fatalf("the user the run did not create is gone: GET answered %d; cleanup deleted %d, left %v", rec.Code, rep.Cleanup.Deleted, rep.Cleanup.Left)
			}
			if got := strings.Contains(strings.Join(rep.Cleanup.Left, "\n"), foreign); got != tc.left {
				t.Errorf("the cleanup reports the foreign user left: %v, want %v: %v", got, tc.left, rep.Cleanup.Left)
			}
			if rep.Cleanup.Deleted == 0 {
				t.Errorf("the cleanup deleted nothing: %v", rep.Cleanup.Left)
			}
		})
	}
}

// TestURLsTheServerGivesGetNoCredentials has Roster name locations on
// another host, in meta.location, the Location header and a bulk
// answer's operations: the run sends nothing there, and deletes what
// it created at the base URL.
func TestURLsTheServerGivesGetNoCredentials(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(other.Close)
	rs := newRoster(t)
	moved := func(loc string) string {
		return other.URL + loc[strings.Index(loc, "/scim/v2/"):]
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(rs.handler, w, r, func(rec *httptest.ResponseRecorder) {
			if loc := rec.Header().Get("Location"); loc != "" {
				rec.Header().Set("Location", moved(loc))
			}
			editJSON(rec, func(m map[string]any) {
				if meta, ok := m["meta"].(map[string]any); ok {
					if loc, _ := meta["location"].(string); loc != "" {
						meta["location"] = moved(loc)
					}
				}
				ops, _ := m["Operations"].([]any)
				for _, o := range ops {
					if o, ok := o.(map[string]any); ok {
						if loc, _ := o["location"].(string); loc != "" {
							o["location"] = moved(loc)
						}
					}
				}
			})
		})
	})
	rep := run(t, serve(t, h), rs.token, conformance.Config{Only: []string{"users.meta_location", "bulk.bulkId_reference"}})
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the run sent %d requests to a host the server named", n)
	}
	if res, _ := rep.Result("users.meta_location"); res.Status != conformance.Fail || !strings.Contains(res.Message, "not under the base URL") {
		t.Errorf("users.meta_location is %s (%s), want a failure saying meta.location is not under the base URL", res.Status, res.Message)
	}
	if res, _ := rep.Result("bulk.bulkId_reference"); res.Status != conformance.Pass {
		t.Errorf("bulk.bulkId_reference is %s (%s), want pass", res.Status, res.Message)
	}
	if n := usersOf(t, rs); n != 0 || len(rep.Cleanup.Left) > 0 {
		t.Errorf("after the run %d users are left; the cleanup left %v", n, rep.Cleanup.Left)
	}
}

// TestAFailedConcurrentCreateLeavesNothingBehind has a server answer 200
// (not 201) to concurrent creates of one userName, creating each: the
// check fails at the first answer, and the cleanup deletes every user
// all the same, with the sweep that would find them refused.
func TestAFailedConcurrentCreateLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	rs := newRoster(t)
	var n atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if swAlone.MatchString(r.URL.Query().Get("filter")) {
			http.Error(w, "no sw", http.StatusBadRequest)
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/scim/v2/Users" {
			rs.handler.ServeHTTP(w, r)
			return
		}
		var u map[string]any
		if json.Unmarshal(readBody(r), &u) == nil {
			u["userName"] = fmt.Sprintf("%s.%d", u["userName"], n.Add(1))
			data, _ := json.Marshal(u)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(data)), int64(len(data))
		}
		answer(rs.handler, w, r, func(rec *httptest.ResponseRecorder) {
			if rec.Code == http.StatusCreated {
				rec.Code = http.StatusOK
			}
		})
	})
	rep := run(t, serve(t, h), rs.token, conformance.Config{Only: []string{"concurrency.creates_unique"}, Concurrency: 4})
	if res, _ := rep.Result("concurrency.creates_unique"); res.Status != conformance.Fail {
		t.Errorf("concurrency.creates_unique is %s (%s), want fail", res.Status, res.Message)
	}
	if left := usersOf(t, rs); left != 0 || rep.Cleanup.Deleted != 4 {
		t.Errorf("after the run %d users are left; the cleanup deleted %d, left %v", left, rep.Cleanup.Deleted, rep.Cleanup.Left)
	}
}

// TestNoSweepAfterFilterChecksFailed: when the server's filters failed a
// check, the cleanup does not trust one to find what the run created.
func TestNoSweepAfterFilterChecksFailed(t *testing.T) {
	t.Parallel()
	rs := newRoster(t)
	var sweeps atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := r.URL.Query().Get("filter")
		if swAlone.MatchString(f) {
			sweeps.Add(1)
		}
		if strings.Contains(f, " ne ") { // a filter operator the server gets wrong
			q := r.URL.Query()
			q.Set("filter", strings.Replace(f, " ne ", " eq ", 1))
			r.URL.RawQuery = q.Encode()
		}
		rs.handler.ServeHTTP(w, r)
	})
	rep := run(t, serve(t, h), rs.token, conformance.Config{Only: []string{"filter"}})
	if res, _ := rep.Result("filter.ne"); res.Status != conformance.Fail {
		t.Fatalf("filter.ne is %s (%s), want fail", res.Status, res.Message)
	}
	if n := sweeps.Load(); n != 0 {
		t.Errorf("the cleanup swept with a filter %d times after filter checks failed", n)
	}
	if n := usersOf(t, rs); n != 0 || len(rep.Cleanup.Left) > 0 {
		t.Errorf("after the run %d users are left; the cleanup left %v", n, rep.Cleanup.Left)
	}
}
