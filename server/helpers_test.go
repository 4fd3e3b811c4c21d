package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/pgtest"
	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/postgres"
	"github.com/rosterhq/roster/store/sqlite"
)

// The SCIM media type every response body must carry (RFC 7644 §3.1).
const scimJSON = "application/scim+json"

const (
	userURN       = schema.UserURN
	groupURN      = schema.GroupURN
	enterpriseURN = schema.EnterpriseUserURN
)

// api is a SCIM client of one directory of a test server: it sends the
// directory's bearer token with every request.
type api struct {
	root  string // the server's URL, such as http://127.0.0.1:41234
	base  string // root + "/scim/v2"
	st    store.Store
	dir   store.Directory
	token string
	http  *http.Client
}

// forEachStore runs test once on each store, in parallel: as subtest
// "sqlite" on a SQLite file, as subtest "postgres" on the package's
// PostgreSQL database (see package pgtest; skipped without PostgreSQL
// unless CI=true). newAPI opens the store the subtest names.
func forEachStore(t *testing.T, test func(t *testing.T)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t)
		})
	}
}

// openStore opens a store of the kind forEachStore's subtest names:
// PostgreSQL under a "postgres" subtest, else SQLite. A SQLite store is
// the test's own; the PostgreSQL database is the package's (pgtest.Shared),
// where the test's directories (see tenant) are its own.
func openStore(t *testing.T) store.Store {
	t.Helper()
	var st store.Store
	var err error
	if slices.Contains(strings.Split(t.Name(), "/"), "postgres") {
		st, err = postgres.Open(context.Background(), pgtest.Shared(t))
	} else {
		st, err = sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "roster.db"))
	}
	if err != nil {
		t.Fatalf("open the store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newAPI starts a real server on 127.0.0.1 over a store (see openStore)
// with cfg's settings (its Store is filled in, and PasswordIterations
// defaults to 1000 for speed) and returns a client of a first directory,
// "acme-…" (see tenant).
func newAPI(t *testing.T, cfg server.Config) *api {
	t.Helper()
	st := openStore(t)
	cfg.Store = st
	if cfg.PasswordIterations == 0 {
		cfg.PasswordIterations = 1000
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1 // tests that send bursts are not about limits
	}
	if cfg.AuthFailureLimit == 0 {
		cfg.AuthFailureLimit = -1 // nor are tests of many bad tokens
	}
	if cfg.QueryBudget == 0 {
		// Nor are tests of big filters about the query budget: under the
		// race detector SQLite runs some fifty times slower (150 userName
		// eq terms: 5 ms, and 150–300 ms with -race, more beside the other
		// packages' tests).
		cfg.QueryBudget = -1
	}
	srv := httptest.NewServer(server.New(cfg))
	t.Cleanup(srv.Close)
	// The server's own transport, not http.DefaultTransport: every
	// httptest server's Close closes DefaultTransport's idle connections,
	// which fails a request of a parallel test taking one at that moment.
	a := &api{root: srv.URL, base: srv.URL + "/scim/v2", st: st, http: &http.Client{Transport: srv.Client().Transport, Timeout: 60 * time.Second}}
	return a.tenant(t, "acme")
}

// tenant returns a client of a new directory on the same server, named
// name and a random suffix ("acme-3f9a2c0d"), so that tests sharing a
// database never share a directory.
func (a *api) tenant(t *testing.T, name string) *api {
	t.Helper()
	ctx := context.Background()
	var suffix [4]byte
	rand.Read(suffix[:])
	name += "-" + hex.EncodeToString(suffix[:])
	dir, err := a.st.CreateDirectory(ctx, name)
	if err != nil {
		t.Fatalf("create directory %q: %v", name, err)
	}
	_, secret, err := a.st.CreateToken(ctx, dir.ID, "test", time.Time{})
	if err != nil {
		t.Fatalf("create a token for %q: %v", name, err)
	}
	b := *a
	b.dir, b.token = dir, secret
	return &b
}

// withToken returns a client that sends secret as its bearer token ("" sends
// no Authorization header).
func (a *api) withToken(secret string) *api {
	b := *a
	b.token = secret
	return &b
}

// response is what the server answered to one request.
type response struct {
	req    string // "GET /scim/v2/Users", for messages
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) String() string {
	body := string(r.Body)
	if len(body) > 2000 {
		body = body[:2000] + "…"
	}
	return fmt.Sprintf("%s answered %d %s", r.req, r.Status, body)
}

// send sends a request to path (relative to /scim/v2 unless it is a full
// URL) with the client's token. body is nil for none, a string or []byte
// sent as is, or a value sent as JSON; its Content-Type is
// application/scim+json unless header (name, value pairs) says otherwise.
// A header value of "" removes the header. send does not need a
// *testing.T, so goroutines can call it.
func (a *api) send(method, path string, body any, header ...string) (*response, error) {
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		case []byte:
			rd = bytes.NewReader(b)
		default:
			data, err := json.Marshal(b)
			if err != nil {
				return nil, err
			}
			rd = bytes.NewReader(data)
		}
	}
	u := path
	if !strings.HasPrefix(path, "http://") {
		u = a.base + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return nil, err
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", scimJSON)
	}
	req.Header.Set("Accept", scimJSON)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the body: %w", method, req.URL.Path, err)
	}
	return &response{req: method + " " + req.URL.RequestURI(), Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// do is send for the test goroutine: it fails the test if the request could
// not be sent.
func (a *api) do(t *testing.T, method, path string, body any, header ...string) *response {
	t.Helper()
	r, err := a.send(method, path, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// must sends a request and fails the test unless the server answers with
// status want. It returns the JSON body, which must be application/scim+json
// (nil for 204 and 304, whose bodies must be empty).
func (a *api) must(t *testing.T, want int, method, path string, body any, header ...string) map[string]any {
	t.Helper()
	r := a.do(t, method, path, body, header...)
	return r.must(t, want)
}

// must fails the test unless r has status want; see api.must.
func (r *response) must(t *testing.T, want int) map[string]any {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%v; want %d", r, want)
	}
	if want == http.StatusNoContent || want == http.StatusNotModified {
		if len(r.Body) != 0 {
			t.Fatalf("%v; want an empty body", r)
		}
		return nil
	}
	return r.json(t)
}

// json checks that r's body is an application/scim+json object and returns
// it, with numbers as json.Number so that integers can be told from
// decimals.
func (r *response) json(t *testing.T) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); mediaType(ct) != scimJSON {
		t.Fatalf("%v; Content-Type is %q, want %s", r, ct, scimJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		t.Fatalf("%v; the body is not a JSON object: %v", r, err)
	}
	return obj
}

func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return contentType
	}
	return mt
}

// mustFail sends a request and fails the test unless the server answers
// with a SCIM error (RFC 7644 §3.12) of this status and, if scimType is
// not empty, this scimType. It returns the error body.
func (a *api) mustFail(t *testing.T, status int, scimType, method, path string, body any, header ...string) map[string]any {
	t.Helper()
	return a.do(t, method, path, body, header...).mustFail(t, status, scimType)
}

// mustFail fails the test unless r is a SCIM error; see api.mustFail.
func (r *response) mustFail(t *testing.T, status int, scimType string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%v; want %d", r, status)
	}
	e := r.json(t)
	if s, ok := e["schemas"].([]any); !ok || len(s) != 1 || s[0] != scim.ErrorURN {
		t.Errorf("%v; schemas should be [%q]", r, scim.ErrorURN)
	}
	if s, ok := e["status"].(string); !ok || s != strconv.Itoa(status) {
		t.Errorf("%v; status should be the string %q", r, strconv.Itoa(status))
	}
	if d, _ := e["detail"].(string); d == "" {
		t.Errorf("%v; detail should say what went wrong", r)
	}
	if scimType != "" && e["scimType"] != scimType {
		t.Errorf("%v; scimType should be %q", r, scimType)
	}
	return e
}

// create POSTs body to /Users or /Groups (path) and returns the created
// resource, checking the 201, its Location header and its ETag.
func (a *api) create(t *testing.T, path string, body any, header ...string) map[string]any {
	t.Helper()
	r := a.do(t, http.MethodPost, path, body, header...)
	res := r.must(t, http.StatusCreated)
	id, _ := res["id"].(string)
	if id == "" {
		t.Fatalf("%v; the created resource has no id", r)
	}
	if loc := r.Header.Get("Location"); loc != a.base+path+"/"+id {
		t.Errorf("%v; Location is %q, want %q", r, loc, a.base+path+"/"+id)
	}
	checkETag(t, r, res)
	return res
}

// checkETag checks that a single-resource response has a weak ETag equal to
// the resource's meta.version.
func checkETag(t *testing.T, r *response, res map[string]any) {
	t.Helper()
	etag := r.Header.Get("ETag")
	if !strings.HasPrefix(etag, `W/"`) || !strings.HasSuffix(etag, `"`) {
		t.Errorf("%v; ETag is %q, want a weak entity tag like W/\"1\"", r, etag)
	}
	if v := at(res, "meta", "version"); v != etag {
		t.Errorf("%v; meta.version is %v, want the ETag %q", r, v, etag)
	}
}

// get GETs a single resource, checking its ETag.
func (a *api) get(t *testing.T, path string) map[string]any {
	t.Helper()
	r := a.do(t, http.MethodGet, path, nil)
	res := r.must(t, http.StatusOK)
	checkETag(t, r, res)
	return res
}

// list GETs a list and returns the ListResponse, checking its envelope:
// the schema, integer totalResults, startIndex and itemsPerPage, and as many
// Resources as itemsPerPage says.
func (a *api) list(t *testing.T, path string) (total int, resources []map[string]any) {
	t.Helper()
	r := a.do(t, http.MethodGet, path, nil)
	return checkList(t, r, r.must(t, http.StatusOK))
}

func checkList(t *testing.T, r *response, lr map[string]any) (total int, resources []map[string]any) {
	t.Helper()
	if s, ok := lr["schemas"].([]any); !ok || !slices.Contains(s, any(scim.ListResponseURN)) {
		t.Fatalf("%v; schemas should hold %q", r, scim.ListResponseURN)
	}
	total = integer(t, r, lr, "totalResults")
	integer(t, r, lr, "startIndex")
	n := integer(t, r, lr, "itemsPerPage")
	raw, _ := lr["Resources"].([]any)
	if len(raw) != n {
		t.Fatalf("%v; itemsPerPage is %d but there are %d Resources", r, n, len(raw))
	}
	for i, v := range raw {
		res, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v; Resources[%d] is not an object", r, i)
		}
		if id, _ := res["id"].(string); id == "" {
			t.Fatalf("%v; Resources[%d] has no id", r, i)
		}
		resources = append(resources, res)
	}
	return total, resources
}

// integer returns obj[key], which must be a JSON integer (not a string or
// a decimal: Okta rejects those).
func integer(t *testing.T, r *response, obj map[string]any, key string) int {
	t.Helper()
	num, ok := obj[key].(json.Number)
	if !ok {
		t.Fatalf("%v; %s is %#v, want a JSON integer", r, key, obj[key])
	}
	n, err := strconv.Atoi(num.String())
	if err != nil {
		t.Fatalf("%v; %s is %s, want a JSON integer", r, key, num)
	}
	return n
}

// at returns the value at a path of object keys (strings, matched exactly)
// and array indexes (ints) in a decoded JSON value, or nil.
func at(v any, path ...any) any {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[p]
		case int:
			s, ok := v.([]any)
			if !ok || p >= len(s) {
				return nil
			}
			v = s[p]
		}
	}
	return v
}

// values returns the "value" sub-attribute of every element of a
// multi-valued attribute (members, groups), sorted.
func values(res map[string]any, attr string) []string {
	var out []string
	items, _ := res[attr].([]any)
	for _, it := range items {
		if s, ok := at(it, "value").(string); ok {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// ids returns the ids of resources in order.
func ids(resources []map[string]any) []string {
	out := make([]string, len(resources))
	for i, r := range resources {
		out[i], _ = r["id"].(string)
	}
	return out
}

// sorted returns a sorted copy of s.
func sorted(s ...string) []string {
	return slices.Sorted(slices.Values(s))
}

// query encodes name, value pairs as a query string starting with "?",
// with spaces as %20 the way Okta and Entra send them.
func query(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return "?" + strings.ReplaceAll(v.Encode(), "+", "%20")
}

// patchOps returns a PatchOp body of the given operations (JSON objects).
func patchOps(ops ...string) string {
	return `{"schemas":["` + scim.PatchOpURN + `"],"Operations":[` + strings.Join(ops, ",") + `]}`
}

// oktaUser returns a user as Okta creates it (REAL-CLIENTS.md, Okta 2).
func oktaUser(userName, given, family string) string {
	return fmt.Sprintf(`{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": %q,
		"name": {"givenName": %q, "familyName": %q},
		"emails": [{"primary": true, "value": %q, "type": "work"}],
		"displayName": %q,
		"locale": "en-US",
		"externalId": %q,
		"groups": [],
		"password": "1mz050nq-Secret!",
		"active": true
	}`, userName, given, family, userName, given+" "+family, "00u"+strings.ToLower(given+family))
}

// mustNotHavePassword fails the test if a resource shows a password.
func mustNotHavePassword(t *testing.T, where string, res map[string]any) {
	t.Helper()
	for k := range res {
		if strings.EqualFold(k, "password") || strings.HasSuffix(strings.ToLower(k), ":password") {
			t.Errorf("%s returned the password: %v", where, res)
		}
	}
}

// jsonEqual reports whether two decoded JSON values are the same.
func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// unchanged fails the test unless the resource at path reads as it did
// (before, from an earlier GET): a failed request must change nothing,
// not even meta.version.
func (a *api) unchanged(t *testing.T, path string, before map[string]any) {
	t.Helper()
	if after := a.get(t, path); !jsonEqual(before, after) {
		a, _ := json.Marshal(after)
		b, _ := json.Marshal(before)
		t.Errorf("GET %s changed after a failed request:\n got %s\nwant %s", path, a, b)
	}
}
