package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/conformance"
)

// run runs the checker against base with token, failing the test when
// it cannot run.
func run(t testing.TB, base, token string, cfg conformance.Config) conformance.Report {
	t.Helper()
	cfg.URL = base
	if token != "" {
		cfg.Auth = client.WithToken(token)
	}
	rep, err := conformance.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("conformance.Run: %v", err)
	}
	return rep
}

// explain returns the text report with exchanges, for a failing test.
func explain(rep conformance.Report) string {
	var b strings.Builder
	rep.WriteText(&b, conformance.TextOptions{Verbose: true})
	return b.String()
}

// usersOf lists the users of a Roster handler's directory, straight from
// the handler.
func usersOf(t *testing.T, rs roster) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/scim/v2/Users?count=0", nil)
	req.Header.Set("Authorization", "Bearer "+rs.token)
	rec := httptest.NewRecorder()
	rs.handler.ServeHTTP(rec, req)
	var l struct{ TotalResults int }
	if err := json.Unmarshal(rec.Body.Bytes(), &l); err != nil {
		t.Fatalf("list users: %v: %s", err, rec.Body)
	}
	return l.TotalResults
}

// TestACancelledRunDeletesWhatItCreated cancels a run in the middle, as
// Ctrl-C does: the rest of the checks are skipped, and every user and
// group the run created is deleted all the same.
func TestACancelledRunDeletesWhatItCreated(t *testing.T) {
	t.Parallel()
	rs := newRoster(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var posts atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && posts.Add(1) == 30 {
			cancel()
		}
		rs.handler.ServeHTTP(w, r)
	})
	rep, err := conformance.Run(ctx, conformance.Config{URL: serve(t, h), Auth: client.WithToken(rs.token)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run of a cancelled context: %v, want context.Canceled", err)
	}
	if len(rep.Results) != len(conformance.Checks()) || rep.Results[len(rep.Results)-2].Status != conformance.Skip {
		t.Errorf("the checks after the cancel were not reported skipped: %d results", len(rep.Results))
	}
	if rep.Failed() {
		t.Errorf("a cancelled run reported failures:\n%s", explain(rep))
	}
	if n := usersOf(t, rs); n != 0 || rep.Cleanup.Deleted == 0 {
		t.Errorf("after the cancelled run %d users are left; cleanup deleted %d, left %v", n, rep.Cleanup.Deleted, rep.Cleanup.Left)
	}
}

func TestSelection(t *testing.T) {
	t.Parallel()
	rs := newRoster(t)
	base := serve(t, rs.handler)
	for _, tc := range []struct {
		name string
		cfg  conformance.Config
		want func(conformance.Result) bool
	}{
		{"--profile okta runs the checks tagged okta", conformance.Config{Profile: conformance.ProfileOkta},
			func(r conformance.Result) bool { return slices.Contains(r.Tags, "okta") }},
		{"--profile entra runs the checks tagged entra", conformance.Config{Profile: conformance.ProfileEntra},
			func(r conformance.Result) bool { return slices.Contains(r.Tags, "entra") }},
		{"--only takes tags and ids", conformance.Config{Only: []string{"etag", "users.create"}},
			func(r conformance.Result) bool { return r.Tags[0] == "etag" || r.ID == "users.create" }},
		{"--skip leaves out", conformance.Config{Skip: []string{"filter", "patch", "groups", "paging"}},
			func(r conformance.Result) bool {
				return !slices.ContainsFunc(r.Tags, func(t string) bool { return t == "filter" || t == "patch" || t == "groups" || t == "paging" })
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := run(t, base, rs.token, tc.cfg)
			if len(rep.Results) == 0 {
				t.Fatal("no checks ran")
			}
			for _, r := range rep.Results {
				if !tc.want(r) {
					t.Errorf("%s ran", r.ID)
				}
				if r.Status == conformance.Fail {
					t.Errorf("%s failed: %s", r.ID, r.Message)
				}
			}
		})
	}
}

func TestChecksAreWellFormed(t *testing.T) {
	t.Parallel()
	known := []string{"discovery", "users", "groups", "filter", "paging", "cursor", "sort", "projection", "patch", "etag", "bulk",
		"errors", "auth", "concurrency", "large-group", "rate-limit", "okta", "entra"}
	seen := map[string]bool{}
	for _, c := range conformance.Checks() {
		if seen[c.ID] {
			t.Errorf("two checks have the id %s", c.ID)
		}
		seen[c.ID] = true
		tag, _, ok := strings.Cut(c.ID, ".")
		if !ok || len(c.Tags) == 0 || c.Tags[0] != tag {
			t.Errorf("%s: the id does not start with its first tag %v", c.ID, c.Tags)
		}
		for _, tg := range c.Tags {
			if !slices.Contains(known, tg) {
				t.Errorf("%s: unknown tag %q", c.ID, tg)
			}
		}
		if c.Ref == "" || c.Title == "" || c.Run == nil {
			t.Errorf("%s lacks its reference, title or function", c.ID)
		}
	}
}

func TestReportFormats(t *testing.T) {
	t.Parallel()
	rep := conformance.Report{URL: "http://scim.test/scim/v2", Profile: "all", Prefix: "rc1",
		Results: []conformance.Result{
			{ID: "users.create", Tags: []string{"users"}, Ref: "RFC 7644 §3.3", Title: "create", Status: conformance.Pass},
			{ID: "users.duplicate_409", Tags: []string{"users"}, Ref: "RFC 7644 §3.3", Title: "dup", Status: conformance.Fail,
				Message: "create a second user: expected status 409, got 201", Expected: "409", Got: "201 {}",
				Exchanges: []conformance.Exchange{{Method: "POST", URL: "http://scim.test/scim/v2/Users", Status: 201,
					RequestHeader: map[string][]string{"Authorization": {"Bearer ****"}}, ResponseBody: "{\"id\":\"1\x1b[31m\"}"}}},
			{ID: "bulk.max_operations", Tags: []string{"bulk"}, Ref: "RFC 7644 §3.7.4", Title: "bulk", Status: conformance.Skip, Message: "not supported"},
			{ID: "patch.empty_operations", Tags: []string{"patch"}, Ref: "x", Title: "empty", Status: conformance.Warn, Message: "refused \x00"},
		}}

	var text bytes.Buffer
	if err := rep.WriteText(&text, conformance.TextOptions{Verbose: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"USERS", "PASS  users.create", "FAIL  users.duplicate_409", "expected: 409", "> Authorization: Bearer ****",
		"SKIP  bulk.max_operations  not supported", "1 passed, 1 failed, 1 warned, 1 skipped"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text report lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), "\x1b") {
		t.Errorf("the text report without colour holds an escape (the server's, or a colour)")
	}
	var colour bytes.Buffer
	rep.WriteText(&colour, conformance.TextOptions{Color: true})
	if !strings.Contains(colour.String(), "\x1b[31mFAIL\x1b[0m") {
		t.Errorf("with colour, FAIL is not red")
	}

	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back conformance.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Results) != 4 || back.Results[1].Exchanges[0].Status != 201 {
		t.Errorf("the JSON report does not read back: %v %+v", err, back)
	}

	var junit bytes.Buffer
	if err := rep.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
	}
	if err := xml.Unmarshal(junit.Bytes(), &doc); err != nil || doc.Tests != 4 || doc.Failures != 1 || doc.Skipped != 1 {
		t.Errorf("the JUnit report: %v %+v\n%s", err, doc, junit.String())
	}
}

// TestSharedUsersThatCannotBeCreatedAreTriedOnce: when the users the
// filter checks share cannot be created, the first check that needs them
// fails saying why, and the others fail saying so, without trying again.
func TestSharedUsersThatCannotBeCreatedAreTriedOnce(t *testing.T) {
	t.Parallel()
	rs := newRoster(t)
	var tries atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/scim/v2/Users" {
			var u struct{ UserName string }
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if json.Unmarshal(body, &u) == nil && strings.Contains(u.UserName, "-pop-u03") {
				tries.Add(1)
				http.Error(w, "disk full", http.StatusInternalServerError)
				return
			}
		}
		rs.handler.ServeHTTP(w, r)
	})
	rep := run(t, serve(t, h), rs.token, conformance.Config{Only: []string{"filter", "paging", "sort"}})
	if n := tries.Load(); n != 1 {
		t.Errorf("the shared users were tried %d times, want once", n)
	}
	for _, id := range []string{"filter.ne", "paging.count_and_startIndex", "sort.userName_ascending"} {
		if res, _ := rep.Result(id); res.Status != conformance.Fail || !strings.Contains(res.Message, "could not be created") {
			t.Errorf("%s: %s %q", id, res.Status, res.Message)
		}
	}
	if n := usersOf(t, rs); n != 0 {
		t.Errorf("%d users left", n)
	}
}

func TestUnknownTagsAreRefused(t *testing.T) {
	t.Parallel()
	for _, cfg := range []conformance.Config{{Only: []string{"filters"}}, {Skip: []string{"users.nope"}}, {Profile: "onelogin"}} {
		if _, err := conformance.Run(context.Background(), conformance.Config{URL: "http://127.0.0.1:1/scim/v2", Only: cfg.Only, Skip: cfg.Skip, Profile: cfg.Profile}); err == nil || errors.Is(err, conformance.ErrCannotRun) {
			t.Errorf("%+v: %v, want a configuration error", cfg, err)
		}
	}
}

// TestAWrongBaseURLCannotRun: a URL whose /Users is not a SCIM list (a
// 404, a web page, a redirect to a login) is not a SCIM server, and the
// run says so rather than failing every check.
func TestAWrongBaseURLCannotRun(t *testing.T) {
	t.Parallel()
	rs := newRoster(t)
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>Welcome</body></html>")
	})
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login", http.StatusFound)
	})
	json200 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"users":[]}`)
	})
	for _, tc := range []struct {
		name string
		url  string
	}{
		{"a path that is not found", strings.TrimSuffix(serve(t, rs.handler), "/scim/v2") + "/scim/v3"},
		{"a web page", serve(t, page)},
		{"a redirect to a login", serve(t, login)},
		{"another API's JSON", serve(t, json200)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep, err := conformance.Run(context.Background(), conformance.Config{URL: tc.url, Auth: client.WithToken(rs.token)})
			if !errors.Is(err, conformance.ErrCannotRun) || !strings.Contains(err.Error(), "not a SCIM base URL") {
				t.Errorf("Run: %v, want ErrCannotRun saying it is not a SCIM base URL", err)
			}
			if len(rep.Results) != 0 {
				t.Errorf("%d checks ran", len(rep.Results))
			}
		})
	}
}
