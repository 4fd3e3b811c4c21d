package conformance_test

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/conformance"
)

// fault breaks one behaviour of the server it wraps.
type fault func(next http.Handler, token string) http.Handler

// answer runs next on r and hands its answer to edit before sending it.
func answer(next http.Handler, w http.ResponseWriter, r *http.Request, edit func(rec *httptest.ResponseRecorder)) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	edit(rec)
	maps.Copy(w.Header(), rec.Header())
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// editJSON rewrites a JSON object answer.
func editJSON(rec *httptest.ResponseRecorder, edit func(m map[string]any)) {
	var m map[string]any
	if json.Unmarshal(rec.Body.Bytes(), &m) != nil {
		return
	}
	edit(m)
	data, _ := json.Marshal(m)
	rec.Body = bytes.NewBuffer(data)
}

// readBody reads a request's body and puts it back.
func readBody(r *http.Request) []byte {
	data, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(data))
	return data
}

var userNameEq = regexp.MustCompile(`userName eq "([^"]*)"`)

// orInParentheses is an or of two externalIds in parentheses.
var orInParentheses = regexp.MustCompile(`\((externalId eq "[^"]*" or externalId eq "[^"]*")\)`)

// refuseEntraQuirks answers 400 invalidPath, as a strict server does, to
// the PATCH operations Entra sends that RFC 7644 does not require a
// server to take: dotted and URN keys in a replace without a path, an
// add through a filter that matches nothing, and a value filter on the
// single-valued manager.
func refuseEntraQuirks(next http.Handler, _ string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			body := string(readBody(r))
			if strings.Contains(body, `"name.givenName"`) || strings.Contains(body, `"op":"Add","path":"emails[type eq \"work\"].`) || strings.Contains(body, `:manager[value eq`) {
				w.Header().Set("Content-Type", "application/scim+json")
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidPath","detail":"not a path this server takes"}`)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// faults are real bugs of SCIM servers (several listed in
// REAL-CLIENTS.md), each with the checks that must catch it.
var faults = []struct {
	name    string
	fault   fault
	profile string   // the run's profile, default all
	fails   []string // the checks that must fail, and no others
	warns   []string // the checks that must warn, and no others
}{
	{
		name: "userName compared case-sensitively",
		fault: func(next http.Handler, _ string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if m := userNameEq.FindStringSubmatch(r.URL.Query().Get("filter")); m != nil && m[1] != strings.ToLower(m[1]) {
					w.Header().Set("Content-Type", "application/scim+json")
					io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`)
					return
				}
				if r.Method == http.MethodPost && r.URL.Path == "/scim/v2/Users" {
					var u map[string]any
					if json.Unmarshal(readBody(r), &u) == nil {
						if name, _ := u["userName"].(string); name != strings.ToLower(name) {
							// Stored as a second user: a case-sensitive index.
							u["userName"] = name + ".upper"
							data, _ := json.Marshal(u)
							r.Body = io.NopCloser(bytes.NewReader(data))
							r.ContentLength = int64(len(data))
						}
					}
				}
				next.ServeHTTP(w, r)
			})
		},
		fails: []string{"users.userName_case_insensitive_409", "users.userName_unicode_case_409", "filter.userName_eq_case_insensitive", "okta.user_sequence"},
	},
	{
		name: "no 409 for a duplicate userName",
		fault: func(next http.Handler, _ string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/scim/v2/Users" {
					next.ServeHTTP(w, r)
					return
				}
				body := readBody(r)
				answer(next, w, r, func(rec *httptest.ResponseRecorder) {
					if rec.Code != http.StatusConflict {
						return
					}
					var u map[string]any
					json.Unmarshal(body, &u)
					u["userName"] = u["userName"].(string) + ".dup"
					data, _ := json.Marshal(u)
					again := r.Clone(r.Context())
					again.Body, again.ContentLength = io.NopCloser(bytes.NewReader(data)), int64(len(data))
					*rec = *httptest.NewRecorder()
					next.ServeHTTP(rec, again)
				})
			})
		},
		fails: []string{"users.duplicate_409", "users.userName_case_insensitive_409", "users.userName_unicode_case_409", "concurrency.creates_unique", "okta.user_sequence"},
	},
	{
		name: "totalResults is the page's size",
		fault: func(next http.Handler, _ string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				answer(next, w, r, func(rec *httptest.ResponseRecorder) {
					editJSON(rec, func(m map[string]any) {
						if rs, ok := m["Resources"].([]any); ok && m["totalResults"] != nil {
							m["totalResults"] = len(rs)
						}
					})
				})
			})
		},
		fails: []string{"paging.count_and_startIndex", "paging.count_zero", "paging.startIndex_past_the_end"},
	},
	{
		name: "count ignored",
		fault: func(next http.Handler, _ string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				q.Del("count")
				r.URL.RawQuery = q.Encode()
				next.ServeHTTP(w, r)
			})
		},
		fails: []string{"paging.count_and_startIndex", "paging.count_zero", "paging.count_negative", "paging.startIndex_below_one", "cursor.walk", "okta.list_users"},
	},
	{
		name: "If-Match ignored",
		fault: func(next http.Handler, _ string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.Header.Del("If-Match")
				next.ServeHTTP(w, r)
			})
		},
		fails: []string{"etag.if_match_stale_412", "etag.put_stale_412", "etag.group_if_match_stale_412"},
	},
	{
		name: "no ETag headers",
		fault: func(next http.Handler, _ string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				answer(next, w, r, func(rec *httptest.ResponseRecorder) { rec.Header().Del("ETag") })
			})
		},
		fails: []string{"etag.version", "etag.if_match_stale_412", "etag.put_stale_412", "etag.if_match_current", "etag.if_none_match_304",
			"etag.group_if_match_stale_412"},
	},
	{
		name: "500 for a bad filter",
		fault: func(next http.Handler, _ string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				answer(next, w, r, func(rec *httptest.ResponseRecorder) {
					if rec.Code == http.StatusBadRequest && strings.Contains(rec.Body.String(), "invalidFilter") {
						rec.Code, rec.Body = http.StatusInternalServerError, bytes.NewBufferString(`{"message":"internal error"}`)
					}
				})
			})
		},
		fails: []string{"filter.invalid_400", "filter.unknown_operator_400", "filter.unbalanced_400"},
	},
	{
		name: "members returned despite excludedAttributes",
		fault: func(next http.Handler, _ string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				q.Del("excludedAttributes")
				r.URL.RawQuery = q.Encode()
				next.ServeHTTP(w, r)
			})
		},
		fails: []string{"projection.excludedAttributes", "groups.excluded_members", "entra.group_lifecycle"},
	},
	{
		name: "a wrong token accepted",
		fault: func(next http.Handler, token string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "" {
					r.Header.Set("Authorization", "Bearer "+token)
				}
				next.ServeHTTP(w, r)
			})
		},
		fails: []string{"auth.wrong_token_401", "auth.wrong_basic_401"},
	},
	{
		name: "capitalised PATCH ops silently ignored",
		fault: func(next http.Handler, _ string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPatch {
					var p map[string]any
					if json.Unmarshal(readBody(r), &p) == nil {
						ops, _ := p["Operations"].([]any)
						p["Operations"] = slices.DeleteFunc(ops, func(o any) bool {
							name, _ := o.(map[string]any)["op"].(string)
							return name != strings.ToLower(name)
						})
						data, _ := json.Marshal(p)
						r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(data)), int64(len(data))
					}
				}
				next.ServeHTTP(w, r)
			})
		},
		fails: []string{"patch.ops_case_insensitive", "patch.manager_set_and_remove", "groups.remove_member_value",
			"entra.user_lifecycle", "entra.group_lifecycle"},
		// What Entra sends and RFC 7644 does not require warns under the
		// default profile.
		warns: []string{"patch.no_path_dotted_keys", "patch.add_through_filter_builds_one", "patch.string_boolean"},
	},
	{
		name:  "Entra's PATCH quirks refused, as a strict server does",
		fault: refuseEntraQuirks,
		warns: []string{"patch.no_path_dotted_keys", "patch.add_through_filter_builds_one", "patch.manager_remove_by_value_filter"},
	},
	{
		name:    "Entra's PATCH quirks refused, under --profile entra",
		fault:   refuseEntraQuirks,
		profile: conformance.ProfileEntra,
		fails:   []string{"patch.no_path_dotted_keys", "patch.add_through_filter_builds_one", "patch.manager_remove_by_value_filter"},
	},
	{
		name: "parentheses ignored: or binds as if they were not there",
		fault: func(next http.Handler, _ string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				if f := q.Get("filter"); f != "" {
					q.Set("filter", orInParentheses.ReplaceAllString(f, "$1"))
					r.URL.RawQuery = q.Encode()
				}
				next.ServeHTTP(w, r)
			})
		},
		fails: []string{"filter.parentheses"},
	},
	{
		name: "failOnErrors ignored",
		fault: func(next http.Handler, _ string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/scim/v2/Bulk" {
					var b map[string]any
					if json.Unmarshal(readBody(r), &b) == nil {
						delete(b, "failOnErrors")
						data, _ := json.Marshal(b)
						r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(data)), int64(len(data))
					}
				}
				next.ServeHTTP(w, r)
			})
		},
		fails: []string{"bulk.fail_on_errors"},
	},
	{
		name: "404s without the SCIM error schema",
		fault: func(next http.Handler, _ string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				answer(next, w, r, func(rec *httptest.ResponseRecorder) {
					if rec.Code == http.StatusNotFound {
						rec.Header().Set("Content-Type", "application/json")
						rec.Body = bytes.NewBufferString(`{"error":"not found"}`)
					}
				})
			})
		},
		fails: []string{"errors.get_unknown_404", "errors.unknown_group_404", "errors.delete_unknown_404", "errors.put_unknown_404"},
	},
	{
		name: "no /ServiceProviderConfig",
		fault: func(next http.Handler, _ string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/ServiceProviderConfig") {
					http.NotFound(w, r)
					return
				}
				next.ServeHTTP(w, r)
			})
		},
		// Taken to support filters and PATCH only: bulk, sort, ETag and
		// cursor checks skip, and nothing else fails.
		fails: []string{"discovery.service_provider_config"},
	},
	{
		name: "429 without Retry-After",
		fault: func(next http.Handler, _ string) http.Handler {
			var n atomic.Int32
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 10 { // the tenth request is refused
					w.Header().Set("Content-Type", "application/scim+json")
					w.WriteHeader(http.StatusTooManyRequests)
					io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"429","detail":"slow down"}`)
					return
				}
				next.ServeHTTP(w, r)
			})
		},
		// The check whose request met the 429 fails: the tenth request
		// of the run, narrowed by only to checks that send one at a time.
		// Not waiting without Retry-After is a SHOULD: the rate-limit
		// check warns.
		fails: []string{"errors.get_unknown_404"},
		warns: []string{"rate-limit.retry_after"},
	},
}

// TestEachFaultFailsTheChecksThatCoverIt puts a server with one fault in
// front of Roster per case: the checks that cover the fault fail, and no
// other does.
func TestEachFaultFailsTheChecksThatCoverIt(t *testing.T) {
	t.Parallel()
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			rs := newRoster(t)
			rep := run(t, serve(t, f.fault(rs.handler, rs.token)), rs.token, conformance.Config{Only: only(f.name), Profile: f.profile})
			for _, s := range []struct {
				status conformance.Status
				want   []string
			}{{conformance.Fail, f.fails}, {conformance.Warn, f.warns}} {
				var got []string
				for _, res := range rep.Results {
					if res.Status == s.status {
						got = append(got, res.ID)
					}
				}
				slices.Sort(got)
				want := slices.Clone(s.want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s %v\nwant %v", s.status, got, want)
				}
			}
			if t.Failed() {
				t.Log(explain(rep))
			}
			for _, id := range append(f.fails, f.warns...) {
				if res, _ := rep.Result(id); res.Message == "" {
					t.Errorf("%s failed or warned without saying why", id)
				}
			}
		})
	}
}

// only narrows the run of a fault that counts requests to checks that
// send theirs one at a time.
func only(fault string) []string {
	if fault == "429 without Retry-After" {
		return []string{"discovery", "auth", "errors", "users", "rate-limit"}
	}
	return nil
}
