package reconcile_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster/reconcile"
)

// schemaFront stands in front of a Roster server and answers its
// /Schemas as answer says (nil: as Roster does).
func schemaFront(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, roster http.Handler)) (baseURL, token string) {
	t.Helper()
	rosterURL, token := startRoster(t)
	u, err := url.Parse(rosterURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = testTransport(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Schemas") {
			answer(w, r, proxy)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/scim/v2", token
}

// TestOnlyNotServedSchemasAreLearntFromAUser: a target answering 404,
// 405 or 501 to /Schemas serves none, and is learnt from a user; any
// other refusal (a 400 or 401 of a broken proxy) fails the plan, with
// nothing written, rather than check the mapping less.
func TestOnlyNotServedSchemasAreLearntFromAUser(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		fails  bool
	}{{http.StatusNotFound, false}, {http.StatusMethodNotAllowed, false}, {http.StatusNotImplemented, false},
		{http.StatusBadRequest, true}, {http.StatusUnauthorized, true}} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			url, token := schemaFront(t, func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
				w.Header().Set("Content-Type", "application/scim+json")
				w.WriteHeader(tc.status)
				json.NewEncoder(w).Encode(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": tc.status, "detail": "no"})
			})
			e, count := strictEngine(t, url, token, staff())
			p, err := e.Plan(context.Background())
			if tc.fails {
				if err == nil || !strings.Contains(err.Error(), "schemas") {
					t.Fatalf("plan: %v, want an error reading the schemas", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(p.Notes, "\n"), "serves no /Schemas") {
				t.Fatalf("notes %q", p.Notes)
			}
			if n := count.take(); n != 0 {
				t.Fatalf("%d writes", n)
			}
		})
	}
}

// TestASchemaThatCannotBeReadIsNoted: a schema document /Schemas serves
// with a field of the wrong type is skipped, and the plan says which, as
// the mapping's paths into it go unchecked.
func TestASchemaThatCannotBeReadIsNoted(t *testing.T) {
	t.Parallel()
	url, token := schemaFront(t, func(w http.ResponseWriter, r *http.Request, roster http.Handler) {
		rec := httptest.NewRecorder()
		roster.ServeHTTP(rec, r)
		var lr map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &lr); err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		res, _ := lr["Resources"].([]any)
		for _, x := range res {
			if m, _ := x.(map[string]any); m["id"] == "urn:ietf:params:scim:schemas:core:2.0:Group" {
				m["attributes"] = "displayName, members" // not a list
			}
		}
		w.Header().Set("Content-Type", "application/scim+json")
		json.NewEncoder(w).Encode(lr)
	})
	e, _ := strictEngine(t, url, token, staff())
	p, err := e.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(p.Notes, "\n"); !strings.Contains(notes, "could not be read, urn:ietf:params:scim:schemas:core:2.0:Group") {
		t.Fatalf("notes %q", p.Notes)
	}
	ts, err := e.LearnTarget(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := reconcile.Mapping{Users: map[string]string{"userName": "mail", "nickName2": "givenName"}, Where: map[string]string{"nickName2": "sync.yaml:7"}}
	if err := ts.Check(m); err == nil || !strings.Contains(err.Error(), "sync.yaml:7: mapping nickName2") {
		t.Fatalf("check: %v", err)
	}
}
