package server_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/server"
)

// fixture is a directory holding two users and a group with the first as
// member, and the paths to them.
type fixture struct {
	alice, bob, group string // paths such as /Users/ID
	aliceID, bobID    string
	groupID           string
}

func newFixture(t *testing.T, a *api) fixture {
	t.Helper()
	var f fixture
	f.aliceID = a.create(t, "/Users", oktaUser("alice@x.com", "Alice", "Smith"))["id"].(string)
	f.bobID = a.create(t, "/Users", oktaUser("bob@x.com", "Bob", "Jones"))["id"].(string)
	f.groupID = a.create(t, "/Groups", fmt.Sprintf(`{"displayName":"Engineering","members":[{"value":%q}]}`, f.aliceID))["id"].(string)
	f.alice, f.bob, f.group = "/Users/"+f.aliceID, "/Users/"+f.bobID, "/Groups/"+f.groupID
	return f
}

// snapshot is what a directory held at one time.
type snapshot struct {
	resources     map[string]map[string]any // by path
	users, groups int
}

// snapshot reads the fixture's resources and counts the directory's users
// and groups.
func (f fixture) snapshot(t *testing.T, a *api) snapshot {
	t.Helper()
	s := snapshot{resources: map[string]map[string]any{}}
	for _, path := range []string{f.alice, f.bob, f.group} {
		s.resources[path] = a.get(t, path)
	}
	s.users, _ = a.list(t, "/Users"+query("count", "0"))
	s.groups, _ = a.list(t, "/Groups"+query("count", "0"))
	return s
}

// unchanged fails the test unless the directory reads as it did in snap.
func (f fixture) unchanged(t *testing.T, a *api, snap snapshot) {
	t.Helper()
	for path, before := range snap.resources {
		a.unchanged(t, path, before)
	}
	if n, _ := a.list(t, "/Users"+query("count", "0")); n != snap.users {
		t.Errorf("the directory holds %d users, want %d", n, snap.users)
	}
	if n, _ := a.list(t, "/Groups"+query("count", "0")); n != snap.groups {
		t.Errorf("the directory holds %d groups, want %d", n, snap.groups)
	}
}

// errorCase is a request that must fail with a SCIM error.
type errorCase struct {
	name     string
	method   string
	path     string // may hold {alice}, {bob} and {group}
	body     string
	header   []string
	status   int
	scimType string
}

// run sends every case and checks its error and that the fixture did not
// change.
func (f fixture) run(t *testing.T, a *api, cases []errorCase) {
	t.Helper()
	snap := f.snapshot(t, a)
	expand := strings.NewReplacer("{alice}", f.aliceID, "{bob}", f.bobID, "{group}", f.groupID)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.body != "" {
				body = expand.Replace(c.body)
			}
			a.mustFail(t, c.status, c.scimType, c.method, expand.Replace(c.path), body, c.header...)
			f.unchanged(t, a, snap)
		})
	}
}

func TestABadTokenIsUnauthorized(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		f := newFixture(t, a)
		ctx := context.Background()
		_, revoked, err := a.st.CreateToken(ctx, a.dir.ID, "revoked", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.st.RevokeToken(ctx, a.dir.ID, "revoked"); err != nil {
			t.Fatal(err)
		}
		_, expired, err := a.st.CreateToken(ctx, a.dir.ID, "expired", time.Now().Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}

		snap := f.snapshot(t, a)
		for _, c := range []struct {
			name          string
			authorization string
		}{
			{"no Authorization header", ""},
			{"an unknown token", "Bearer rst_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
			{"an empty bearer token", "Bearer "},
			{"the token under another scheme", "Token " + a.token},
			{"the token without a scheme", a.token},
			{"HTTP Basic credentials", "Basic " + basic("okta", "secret")},
			{"a revoked token", "Bearer " + revoked},
			{"an expired token", "Bearer " + expired},
		} {
			t.Run(c.name, func(t *testing.T) {
				for _, req := range []struct{ method, path, body string }{
					{http.MethodGet, "/Users", ""},
					{http.MethodGet, f.alice, ""},
					{http.MethodGet, "/Groups" + query("filter", `displayName eq "Engineering"`), ""},
					{http.MethodPost, "/Users", oktaUser("mallory@x.com", "Mallory", "Evil")},
					{http.MethodPut, f.bob, oktaUser("mallory@x.com", "Mallory", "Evil")},
					{http.MethodPatch, f.group, patchOps(`{"op":"replace","path":"members","value":[]}`)},
					{http.MethodDelete, f.alice, ""},
				} {
					var body any
					if req.body != "" {
						body = req.body
					}
					r := a.withToken("").do(t, req.method, req.path, body, "Authorization", c.authorization)
					r.mustFail(t, http.StatusUnauthorized, "")
					if r.Header.Get("WWW-Authenticate") == "" {
						t.Errorf("%v; a 401 needs a WWW-Authenticate header", r)
					}
				}
				f.unchanged(t, a, snap)
			})
		}
	})
}

func basic(user, password string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	req.SetBasicAuth(user, password)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func TestDiscoveryNeedsNoToken(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{}).withToken("")
		for _, path := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/User", "/Schemas", "/Schemas/" + userURN} {
			a.must(t, http.StatusOK, http.MethodGet, path, nil)
		}
		_, types := a.list(t, "/ResourceTypes")
		var names []string
		for _, rt := range types {
			names = append(names, fmt.Sprint(rt["name"]))
		}
		if !slices.Contains(names, "User") || !slices.Contains(names, "Group") {
			t.Errorf("GET /ResourceTypes lists %v, want User and Group", names)
		}
		for _, path := range []string{"/ResourceTypes/Nope", "/Schemas/urn:example:no:such:schema"} {
			a.mustFail(t, http.StatusNotFound, "", http.MethodGet, path, nil)
		}
		resp, err := a.http.Get(a.root + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /healthz answered %d, want 200", resp.StatusCode)
		}
	})
}

func TestUnknownIDsAreNotFound(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		f := newFixture(t, a)
		var cases []errorCase
		for _, path := range []string{"/Users/00000000-0000-0000-0000-000000000000", "/Groups/00000000-0000-0000-0000-000000000000",
			"/Groups/{alice}", "/Users/{group}"} {
			cases = append(cases,
				errorCase{name: "GET " + path, method: http.MethodGet, path: path, status: http.StatusNotFound},
				errorCase{name: "PUT " + path, method: http.MethodPut, path: path, body: `{"userName":"x@x.com","displayName":"X"}`, status: http.StatusNotFound},
				errorCase{name: "PATCH " + path, method: http.MethodPatch, path: path, body: patchOps(`{"op":"replace","path":"displayName","value":"X"}`), status: http.StatusNotFound},
				errorCase{name: "DELETE " + path, method: http.MethodDelete, path: path, status: http.StatusNotFound},
			)
		}
		f.run(t, a, cases)
	})
}

func TestDuplicateNamesConflict(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		f := newFixture(t, a)
		a.create(t, "/Groups", `{"displayName":"Sales"}`)
		f.run(t, a, []errorCase{
			{name: "POST of a userName in another case", method: http.MethodPost, path: "/Users",
				body: oktaUser("ALICE@x.com", "Alice", "Other"), status: http.StatusConflict, scimType: scim.Uniqueness},
			{name: "PUT of bob with alice's userName", method: http.MethodPut, path: "/Users/{bob}",
				body: oktaUser("Alice@X.com", "Bob", "Jones"), status: http.StatusConflict, scimType: scim.Uniqueness},
			{name: "PATCH of bob's userName to alice's", method: http.MethodPatch, path: "/Users/{bob}",
				body: patchOps(`{"op":"replace","path":"userName","value":"alice@X.COM"}`), status: http.StatusConflict, scimType: scim.Uniqueness},
			{name: "POST of a group displayName in another case", method: http.MethodPost, path: "/Groups",
				body: `{"displayName":"engineering"}`, status: http.StatusConflict, scimType: scim.Uniqueness},
			{name: "PUT of a group to another's displayName", method: http.MethodPut, path: "/Groups/{group}",
				body: `{"displayName":"SALES","members":[{"value":"{bob}"}]}`, status: http.StatusConflict, scimType: scim.Uniqueness},
			{name: "PATCH of a group to another's displayName", method: http.MethodPatch, path: "/Groups/{group}",
				body:   patchOps(`{"op":"replace","value":{"displayName":"sales"}}`, `{"op":"add","path":"members","value":[{"value":"{bob}"}]}`),
				status: http.StatusConflict, scimType: scim.Uniqueness},
		})
	})
}

func TestMalformedRequestsAreBadRequests(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		f := newFixture(t, a)
		f.run(t, a, []errorCase{
			{name: "POST of truncated JSON", method: http.MethodPost, path: "/Users", body: `{"userName":"carol@x.com",`,
				status: http.StatusBadRequest, scimType: scim.InvalidSyntax},
			{name: "POST of a JSON array", method: http.MethodPost, path: "/Users", body: `[{"userName":"carol@x.com"}]`,
				status: http.StatusBadRequest, scimType: scim.InvalidSyntax},
			{name: "POST of a group with trailing data", method: http.MethodPost, path: "/Groups", body: `{"displayName":"Ops"} {}`,
				status: http.StatusBadRequest, scimType: scim.InvalidSyntax},
			{name: "PUT of truncated JSON", method: http.MethodPut, path: "/Users/{alice}", body: `{"userName":"alice@x.com","name":{`,
				status: http.StatusBadRequest, scimType: scim.InvalidSyntax},
			{name: "PATCH of truncated JSON", method: http.MethodPatch, path: "/Users/{alice}", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`,
				status: http.StatusBadRequest, scimType: scim.InvalidSyntax},
			{name: "PATCH of a group with truncated JSON", method: http.MethodPatch, path: "/Groups/{group}", body: `{"Operations":[{"op":"remove","path":"members"`,
				status: http.StatusBadRequest, scimType: scim.InvalidSyntax},
			{name: "PATCH without Operations", method: http.MethodPatch, path: "/Users/{alice}", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`,
				status: http.StatusBadRequest, scimType: scim.InvalidSyntax},
			{name: "PATCH with an unknown op", method: http.MethodPatch, path: "/Users/{alice}", body: patchOps(`{"op":"copy","path":"title","value":"x"}`),
				status: http.StatusBadRequest, scimType: scim.InvalidSyntax},
			{name: "PATCH remove without a path", method: http.MethodPatch, path: "/Groups/{group}", body: patchOps(`{"op":"remove"}`),
				status: http.StatusBadRequest, scimType: scim.NoTarget},
			{name: "PATCH with a malformed path", method: http.MethodPatch, path: "/Users/{alice}", body: patchOps(`{"op":"add","path":"emails[type eq","value":"x"}`),
				status: http.StatusBadRequest, scimType: scim.InvalidPath},
			{name: "a failing second operation undoes the first", method: http.MethodPatch, path: "/Users/{alice}",
				body:   patchOps(`{"op":"replace","path":"title","value":"Changed"}`, `{"op":"remove","path":"userName"}`),
				status: http.StatusBadRequest},
			{name: "POST of a user without userName", method: http.MethodPost, path: "/Users", body: `{"name":{"givenName":"No"}}`,
				status: http.StatusBadRequest, scimType: scim.InvalidValue},
			{name: "PUT of a user without userName", method: http.MethodPut, path: "/Users/{bob}", body: `{"displayName":"Bob"}`,
				status: http.StatusBadRequest, scimType: scim.InvalidValue},
			{name: "POST of a user with active not a boolean", method: http.MethodPost, path: "/Users", body: `{"userName":"carol@x.com","active":"maybe"}`,
				status: http.StatusBadRequest, scimType: scim.InvalidValue},
		})
	})
}

func TestBadFiltersAreInvalidFilter(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		f := newFixture(t, a)
		var cases []errorCase
		for _, filter := range []string{`userName eq`, `userName xx "a"`, `(userName eq "a"`, `userName eq "a" and`, `emails[type eq "work".value eq "a"`} {
			cases = append(cases,
				errorCase{name: "GET /Users filter " + filter, method: http.MethodGet, path: "/Users" + query("filter", filter),
					status: http.StatusBadRequest, scimType: scim.InvalidFilter},
				errorCase{name: "GET /Groups filter " + filter, method: http.MethodGet, path: "/Groups" + query("filter", filter),
					status: http.StatusBadRequest, scimType: scim.InvalidFilter},
				errorCase{name: "POST /Users/.search filter " + filter, method: http.MethodPost, path: "/Users/.search",
					body:   fmt.Sprintf(`{"schemas":[%q],"filter":%q}`, scim.SearchRequestURN, filter),
					status: http.StatusBadRequest, scimType: scim.InvalidFilter},
			)
		}
		f.run(t, a, cases)
	})
}

func TestBodiesOverTheLimitAreTooLarge(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{MaxBodyBytes: 1024})
		f := newFixture(t, a)
		big := strings.Repeat("x", 4096)
		f.run(t, a, []errorCase{
			{name: "POST", method: http.MethodPost, path: "/Users", body: `{"userName":"carol@x.com","title":"` + big + `"}`,
				status: http.StatusRequestEntityTooLarge},
			{name: "PUT", method: http.MethodPut, path: "/Users/{alice}", body: `{"userName":"alice@x.com","title":"` + big + `"}`,
				status: http.StatusRequestEntityTooLarge},
			{name: "PATCH", method: http.MethodPatch, path: "/Groups/{group}", body: patchOps(`{"op":"replace","path":"displayName","value":"` + big + `"}`),
				status: http.StatusRequestEntityTooLarge},
			{name: "POST .search", method: http.MethodPost, path: "/Users/.search", body: `{"filter":"userName eq \"` + big + `\""}`,
				status: http.StatusRequestEntityTooLarge},
		})
		// Under the limit is fine.
		a.create(t, "/Users", `{"userName":"carol@x.com","title":"`+strings.Repeat("x", 512)+`"}`)

		t.Run("the default limit is 1 MiB", func(t *testing.T) {
			a := newAPI(t, server.Config{})
			a.create(t, "/Users", `{"userName":"carol@x.com","title":"`+strings.Repeat("x", 900<<10)+`"}`)
			a.mustFail(t, http.StatusRequestEntityTooLarge, "", http.MethodPost, "/Users", `{"userName":"dave@x.com","title":"`+strings.Repeat("x", 2<<20)+`"}`)
			if n, _ := a.list(t, "/Users"+query("count", "0")); n != 1 {
				t.Errorf("the directory holds %d users, want 1", n)
			}
		})
	})
}

func TestOtherMediaTypesAreUnsupported(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		f := newFixture(t, a)
		var cases []errorCase
		for _, ct := range []string{"text/plain", "application/xml", "application/x-www-form-urlencoded", "text/json"} {
			cases = append(cases,
				errorCase{name: "POST as " + ct, method: http.MethodPost, path: "/Users", body: `{"userName":"carol@x.com"}`,
					header: []string{"Content-Type", ct}, status: http.StatusUnsupportedMediaType},
				errorCase{name: "PUT as " + ct, method: http.MethodPut, path: "/Users/{alice}", body: `{"userName":"alice@x.com"}`,
					header: []string{"Content-Type", ct}, status: http.StatusUnsupportedMediaType},
				errorCase{name: "PATCH as " + ct, method: http.MethodPatch, path: "/Groups/{group}", body: patchOps(`{"op":"replace","path":"members","value":[]}`),
					header: []string{"Content-Type", ct}, status: http.StatusUnsupportedMediaType},
			)
		}
		f.run(t, a, cases)
		// Parameters do not change the media type.
		for _, ct := range []string{"application/json; charset=utf-8", "application/scim+json; charset=UTF-8", "Application/JSON"} {
			a.create(t, "/Groups", fmt.Sprintf(`{"displayName":%q}`, ct), "Content-Type", ct)
		}
	})
}

func TestWrongMethodsAreNotAllowed(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		f := newFixture(t, a)
		snap := f.snapshot(t, a)
		for _, c := range []struct{ method, path string }{
			{http.MethodDelete, "/Users"},
			{http.MethodPut, "/Users"},
			{http.MethodPatch, "/Groups"},
			{http.MethodPost, f.alice},
			{http.MethodPost, f.group},
			{http.MethodPost, "/ServiceProviderConfig"},
			{http.MethodDelete, "/Schemas"},
			{http.MethodPut, "/ResourceTypes/User"},
		} {
			t.Run(c.method+" "+c.path, func(t *testing.T) {
				var body any
				if c.method != http.MethodGet && c.method != http.MethodDelete {
					body = `{"userName":"x@x.com"}`
				}
				r := a.do(t, c.method, c.path, body)
				r.mustFail(t, http.StatusMethodNotAllowed, "")
				if r.Header.Get("Allow") == "" {
					t.Errorf("%v; a 405 must say in Allow which methods are", r)
				}
			})
		}
		f.unchanged(t, a, snap)
	})
}

func TestVersionsArePreconditions(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		f := newFixture(t, a)
		stale := `W/"999"`
		f.run(t, a, []errorCase{
			{name: "PUT of a user", method: http.MethodPut, path: "/Users/{alice}", body: oktaUser("alice@x.com", "Alice", "Changed"),
				header: []string{"If-Match", stale}, status: http.StatusPreconditionFailed},
			{name: "PATCH of a user", method: http.MethodPatch, path: "/Users/{alice}", body: patchOps(`{"op":"replace","value":{"active":false}}`),
				header: []string{"If-Match", stale}, status: http.StatusPreconditionFailed},
			{name: "DELETE of a user", method: http.MethodDelete, path: "/Users/{bob}",
				header: []string{"If-Match", stale}, status: http.StatusPreconditionFailed},
			{name: "PUT of a group", method: http.MethodPut, path: "/Groups/{group}", body: `{"displayName":"Changed"}`,
				header: []string{"If-Match", stale}, status: http.StatusPreconditionFailed},
			{name: "PATCH of a group", method: http.MethodPatch, path: "/Groups/{group}", body: patchOps(`{"op":"add","path":"members","value":[{"value":"{bob}"}]}`),
				header: []string{"If-Match", stale}, status: http.StatusPreconditionFailed},
			{name: "DELETE of a group", method: http.MethodDelete, path: "/Groups/{group}",
				header: []string{"If-Match", stale}, status: http.StatusPreconditionFailed},
		})

		// The current version passes, and the one before it no longer does.
		v1 := a.get(t, f.alice)["meta"].(map[string]any)["version"].(string)
		r := a.do(t, http.MethodPatch, f.alice, patchOps(`{"op":"replace","path":"title","value":"Lead"}`), "If-Match", v1)
		u := r.must(t, http.StatusOK)
		checkETag(t, r, u)
		v2 := r.Header.Get("ETag")
		if v2 == v1 || u["title"] != "Lead" {
			t.Fatalf("PATCH with If-Match %s answered ETag %s and title %v", v1, v2, u["title"])
		}
		before := a.get(t, f.alice)
		a.mustFail(t, http.StatusPreconditionFailed, "", http.MethodPut, f.alice, oktaUser("alice@x.com", "Alice", "Stale"), "If-Match", v1)
		a.mustFail(t, http.StatusPreconditionFailed, "", http.MethodDelete, f.alice, nil, "If-Match", v1)
		a.unchanged(t, f.alice, before)
		a.must(t, http.StatusOK, http.MethodPut, f.alice, oktaUser("alice@x.com", "Alice", "Fresh"), "If-Match", v2)

		gv := a.get(t, f.group)["meta"].(map[string]any)["version"].(string)
		a.must(t, http.StatusNoContent, http.MethodPatch, f.group, patchOps(`{"op":"add","path":"members","value":[{"value":"`+f.bobID+`"}]}`), "If-Match", gv)
		if m := values(a.get(t, f.group), "members"); !slices.Equal(m, sorted(f.aliceID, f.bobID)) {
			t.Errorf("after PATCH with the right If-Match the members are %v", m)
		}
		a.must(t, http.StatusNoContent, http.MethodPatch, f.group, patchOps(`{"op":"remove","path":"members[value eq \"`+f.bobID+`\"]"}`), "If-Match", "*")

		// If-None-Match on GET answers 304 while the version is current.
		cur := a.do(t, http.MethodGet, f.alice, nil)
		etag := cur.Header.Get("ETag")
		r = a.do(t, http.MethodGet, f.alice, nil, "If-None-Match", etag)
		r.must(t, http.StatusNotModified)
		if r.Header.Get("ETag") != etag {
			t.Errorf("%v; a 304 must carry the ETag %s", r, etag)
		}
		a.must(t, http.StatusOK, http.MethodGet, f.alice, nil, "If-None-Match", v1)
		a.must(t, http.StatusOK, http.MethodPatch, f.alice, patchOps(`{"op":"replace","path":"title","value":"CTO"}`))
		if got := a.must(t, http.StatusOK, http.MethodGet, f.alice, nil, "If-None-Match", etag); got["title"] != "CTO" {
			t.Errorf("GET with an old If-None-Match answered title %v, want CTO", got["title"])
		}
	})
}

func TestDirectoriesAreIsolated(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		acme := newAPI(t, server.Config{})
		f := newFixture(t, acme)
		globex := acme.tenant(t, "globex")
		snap := f.snapshot(t, acme)

		for _, path := range []string{f.alice, f.group} {
			globex.mustFail(t, http.StatusNotFound, "", http.MethodGet, path, nil)
			globex.mustFail(t, http.StatusNotFound, "", http.MethodPatch, path, patchOps(`{"op":"replace","value":{"displayName":"Stolen"}}`))
			globex.mustFail(t, http.StatusNotFound, "", http.MethodDelete, path, nil)
		}
		globex.mustFail(t, http.StatusNotFound, "", http.MethodPut, f.alice, oktaUser("alice@x.com", "Stolen", "Name"))
		globex.mustFail(t, http.StatusNotFound, "", http.MethodPut, f.group, `{"displayName":"Stolen"}`)

		for _, path := range []string{
			"/Users", "/Groups",
			"/Users" + query("filter", `userName eq "alice@x.com"`),
			"/Users" + query("filter", `id eq "`+f.aliceID+`"`),
			"/Groups" + query("filter", `displayName eq "Engineering"`),
		} {
			if total, found := globex.list(t, path); total != 0 || len(found) != 0 {
				t.Errorf("globex's GET %s found %d of acme's resources", path, total)
			}
		}
		r := globex.do(t, http.MethodPost, "/Users/.search", fmt.Sprintf(`{"schemas":[%q],"filter":"userName eq \"alice@x.com\""}`, scim.SearchRequestURN))
		if total, _ := checkList(t, r, r.must(t, http.StatusOK)); total != 0 {
			t.Errorf("globex's search found %d of acme's users", total)
		}

		// Names are unique per directory only.
		mine := globex.create(t, "/Users", oktaUser("alice@x.com", "Alice", "Globex"))
		g := globex.create(t, "/Groups", `{"displayName":"Engineering"}`)
		// acme's user cannot join globex's group.
		r = globex.do(t, http.MethodPatch, "/Groups/"+g["id"].(string), patchOps(`{"op":"add","path":"members","value":[{"value":"`+f.aliceID+`"}]}`))
		if r.Status < 400 || r.Status >= 500 {
			t.Errorf("%v; adding another directory's user must fail with a 4xx", r)
		}
		if m := values(globex.get(t, "/Groups/"+g["id"].(string)), "members"); len(m) != 0 {
			t.Errorf("globex's group holds %v", m)
		}
		acme.mustFail(t, http.StatusNotFound, "", http.MethodGet, "/Users/"+mine["id"].(string), nil)
		f.unchanged(t, acme, snap)
	})
}

func TestParallelCreatesOfOneUserNameMakeOneUser(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		const n = 50
		responses := make([]*response, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				var err error
				responses[i], err = a.send(http.MethodPost, "/Users", oktaUser("same@x.com", "Same", fmt.Sprint(i)))
				if err != nil {
					t.Errorf("request %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		created := 0
		for _, r := range responses {
			switch r.Status {
			case http.StatusCreated:
				created++
			case http.StatusConflict:
				r.mustFail(t, http.StatusConflict, scim.Uniqueness)
			default:
				t.Errorf("%v; want 201 or 409", r)
			}
		}
		if created != 1 {
			t.Errorf("%d of %d parallel POSTs of one userName answered 201, want 1", created, n)
		}
		if total, _ := a.list(t, "/Users"+query("filter", `userName eq "same@x.com"`)); total != 1 {
			t.Errorf("the directory holds %d users named same@x.com, want 1", total)
		}
	})
}

func TestParallelMemberAddsAllLand(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		const n = 50
		users := make([]string, n)
		for i := range n {
			users[i] = a.create(t, "/Users", fmt.Sprintf(`{"userName":"user%02d@x.com"}`, i))["id"].(string)
		}
		gid := a.create(t, "/Groups", `{"displayName":"Everyone","members":[]}`)["id"].(string)
		responses := make([]*response, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				var err error
				responses[i], err = a.send(http.MethodPatch, "/Groups/"+gid,
					patchOps(fmt.Sprintf(`{"op":"Add","path":"members","value":[{"value":%q}]}`, users[i])))
				if err != nil {
					t.Errorf("request %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		for _, r := range responses {
			if r.Status != http.StatusNoContent {
				t.Errorf("%v; want 204", r)
			}
		}
		if m := values(a.get(t, "/Groups/"+gid), "members"); !slices.Equal(m, sorted(users...)) {
			t.Errorf("after %d parallel adds the group has %d members, want all %d", n, len(m), n)
		}
	})
}

func TestParallelUpdatesWithoutIfMatchAllSucceed(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		path := "/Users/" + a.create(t, "/Users", oktaUser("alice@x.com", "Alice", "Smith"))["id"].(string)
		const n = 20
		responses := make([]*response, 2*n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				var err error
				// Without If-Match a client asks for no precondition: 412 is wrong.
				responses[i], err = a.send(http.MethodPut, path, oktaUser("alice@x.com", "Alice", fmt.Sprint("Put", i)))
				if err != nil {
					t.Errorf("PUT %d: %v", i, err)
				}
			})
			wg.Go(func() {
				var err error
				responses[n+i], err = a.send(http.MethodPatch, path, patchOps(fmt.Sprintf(`{"op":"replace","path":"title","value":"Patch%d"}`, i)))
				if err != nil {
					t.Errorf("PATCH %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		for _, r := range responses {
			if r.Status != http.StatusOK {
				t.Errorf("%v; want 200", r)
			}
		}
	})
}

func TestPasswordsAreNeverReturnedNorStoredInClear(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		users := schema.NewRegistry().ResourceType("User")
		u := a.create(t, "/Users", oktaUser("alice@x.com", "Alice", "Smith"))
		mustNotHavePassword(t, "POST", u)
		id := u["id"].(string)
		path := "/Users/" + id

		// stored fails the test unless the store holds a password that is not
		// the cleartext.
		stored := func(how, cleartext string) {
			t.Helper()
			res, err := a.st.Get(context.Background(), a.dir.ID, users, id, false)
			if err != nil {
				t.Fatal(err)
			}
			pw, _ := res.Attrs["password"].(string)
			if pw == "" || strings.Contains(pw, cleartext) {
				t.Errorf("after %s the store holds the password %q, want a hash of %q", how, pw, cleartext)
			}
		}
		stored("POST", "1mz050nq-Secret!")

		mustNotHavePassword(t, "GET", a.get(t, path))
		mustNotHavePassword(t, "GET ?attributes=password", a.must(t, http.StatusOK, http.MethodGet, path+query("attributes", "password,userName"), nil))
		put := strings.Replace(oktaUser("alice@x.com", "Alice", "Smith"), "1mz050nq-Secret!", "put-Secret!", 1)
		mustNotHavePassword(t, "PUT", a.must(t, http.StatusOK, http.MethodPut, path, put))
		stored("PUT", "put-Secret!")
		mustNotHavePassword(t, "PATCH", a.must(t, http.StatusOK, http.MethodPatch, path, patchOps(`{"op":"replace","path":"password","value":"patch-Secret!"}`)))
		stored("PATCH with a path", "patch-Secret!")
		mustNotHavePassword(t, "PATCH", a.must(t, http.StatusOK, http.MethodPatch, path, patchOps(`{"op":"Replace","value":{"active":true,"password":"pathless-Secret!"}}`)))
		stored("PATCH without a path", "pathless-Secret!")
		mustNotHavePassword(t, "PATCH", a.must(t, http.StatusOK, http.MethodPatch, path, patchOps(`{"op":"add","path":"urn:ietf:params:scim:schemas:core:2.0:User:password","value":"urn-Secret!"}`)))
		stored("PATCH with a URN path", "urn-Secret!")

		for _, p := range []string{"/Users", "/Users" + query("attributes", "password"), "/Users" + query("filter", `userName eq "alice@x.com"`, "attributes", "userName,password")} {
			_, found := a.list(t, p)
			for _, u := range found {
				mustNotHavePassword(t, "GET "+p, u)
			}
		}
	})
}

// The list parameters of RFC 7644 §3.4.2 at their edges.
func TestListParameters(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{DefaultCount: 2, MaxResults: 3})
		names := []string{"carol", "alice", "erin", "bob", "dave"}
		byName := map[string]string{}
		for _, n := range names {
			byName[n] = a.create(t, "/Users", fmt.Sprintf(`{"userName":"%s@x.com","title":%q,"emails":[{"value":"%s@x.com"}]}`, n, n, n))["id"].(string)
		}
		inOrder := func(names ...string) []string {
			var out []string
			for _, n := range names {
				out = append(out, byName[n])
			}
			return out
		}

		for _, c := range []struct {
			name  string
			query string
			total int
			want  []string // ids in order; nil for none
		}{
			{"count=0 answers only the total", query("count", "0"), 5, nil},
			{"a negative count is 0", query("count", "-1"), 5, nil},
			{"no count is DefaultCount", "", 5, inOrder("carol", "alice")},
			{"count is capped at MaxResults", query("count", "100"), 5, inOrder("carol", "alice", "erin")},
			{"startIndex is 1-based", query("startIndex", "2", "count", "2"), 5, inOrder("alice", "erin")},
			{"startIndex under 1 is 1", query("startIndex", "0", "count", "1"), 5, inOrder("carol")},
			{"startIndex past the end is an empty page", query("startIndex", "6"), 5, nil},
			{"sortBy userName", query("sortBy", "userName", "count", "3"), 5, inOrder("alice", "bob", "carol")},
			{"sortBy userName descending", query("sortBy", "userName", "sortOrder", "descending", "count", "3"), 5, inOrder("erin", "dave", "carol")},
			{"sortBy and startIndex", query("sortBy", "userName", "startIndex", "4"), 5, inOrder("dave", "erin")},
			{"a filter that matches nothing", query("filter", `title eq "zoe"`), 0, nil},
			{"a filter with or", query("filter", `title eq "bob" or userName sw "ERIN"`, "sortBy", "title"), 2, inOrder("bob", "erin")},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := a.do(t, http.MethodGet, "/Users"+c.query, nil)
				total, found := checkList(t, r, r.must(t, http.StatusOK))
				if total != c.total || !slices.Equal(ids(found), c.want) {
					t.Errorf("%v; want totalResults %d and ids %v", r, c.total, c.want)
				}
			})
		}

		t.Run("attributes and excludedAttributes", func(t *testing.T) {
			_, found := a.list(t, "/Users"+query("attributes", "userName", "filter", `userName eq "bob@x.com"`))
			if len(found) != 1 || found[0]["userName"] != "bob@x.com" || found[0]["id"] != byName["bob"] || found[0]["title"] != nil || found[0]["emails"] != nil {
				t.Errorf("attributes=userName answered %v, want id and userName only", found)
			}
			_, found = a.list(t, "/Users"+query("excludedAttributes", "emails,title", "filter", `userName eq "bob@x.com"`))
			if len(found) != 1 || found[0]["userName"] != "bob@x.com" || found[0]["title"] != nil || found[0]["emails"] != nil {
				t.Errorf("excludedAttributes=emails,title answered %v", found)
			}
			one := a.must(t, http.StatusOK, http.MethodGet, "/Users/"+byName["bob"]+query("attributes", "emails.value"), nil)
			if one["id"] != byName["bob"] || at(one, "emails", 0, "value") != "bob@x.com" || one["title"] != nil {
				t.Errorf("GET ?attributes=emails.value answered %v", one)
			}
		})

		t.Run("POST .search takes the same parameters", func(t *testing.T) {
			body := fmt.Sprintf(`{"schemas":[%q],"filter":"userName ew \"@x.com\"","sortBy":"userName","sortOrder":"descending","startIndex":2,"count":2,"attributes":["userName"]}`,
				scim.SearchRequestURN)
			r := a.do(t, http.MethodPost, "/Users/.search", body)
			total, found := checkList(t, r, r.must(t, http.StatusOK))
			if total != 5 || !slices.Equal(ids(found), inOrder("dave", "carol")) || found[0]["title"] != nil {
				t.Errorf("%v; want totalResults 5 and dave, carol with userName only", r)
			}
		})
	})
}
