package conformance

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestMaskHidesCredentialsAndPasswords(t *testing.T) {
	t.Parallel()
	h := maskHeader(http.Header{
		"Authorization": {"Bearer rst_secret"}, "Proxy-Authorization": {"Basic dXNlcjpwYXNz"},
		"Cookie": {"session=abc"}, "Accept": {"application/scim+json"},
	})
	for k, want := range map[string]string{"Authorization": "Bearer ****", "Proxy-Authorization": "Basic ****", "Cookie": "****", "Accept": "application/scim+json"} {
		if got := h[k][0]; got != want {
			t.Errorf("%s masked to %q, want %q", k, got, want)
		}
	}
	for _, tc := range []struct{ name, body, secret string }{
		{"a user's password", `{"userName":"a","password":"hunter2"}`, "hunter2"},
		{"any case", `{"PassWord":"hunter2"}`, "hunter2"},
		{"nested, URN-qualified", `{"urn:x:User":{"urn:x:User:password":"hunter2"}}`, "hunter2"},
		{"a PATCH of the password", `{"Operations":[{"op":"replace","path":"password","value":"hunter2"}]}`, "hunter2"},
		{"a PATCH without a path", `{"Operations":[{"op":"replace","value":{"password":"hunter2"}}]}`, "hunter2"},
		{"in bulk data", `{"Operations":[{"method":"POST","data":{"password":"hunter2"}}]}`, "hunter2"},
	} {
		got := maskBody([]byte(tc.body))
		if strings.Contains(got, tc.secret) || !strings.Contains(got, "****") || !json.Valid([]byte(got)) {
			t.Errorf("%s: masked to %s", tc.name, got)
		}
	}
	if got := maskBody([]byte("not json, password=x")); got != "not json, password=x" {
		t.Errorf("a body that is not JSON became %q", got)
	}
	if got := maskBody([]byte(`{"b":1,"a":2}`)); got != `{"b":1,"a":2}` {
		t.Errorf("a body without a password was rewritten: %q", got)
	}
}

// FuzzMaskBody: any body masks without panicking, and a password set in
// a JSON object never survives.
func FuzzMaskBody(f *testing.F) {
	for _, seed := range []string{`{"password":"x"}`, `[{"Password":"y"}]`, `{"Operations":[{"path":"password","value":"z"}]}`,
		`{"a":{"b":[1,2.5e3,null,true]}}`, `not json`, `{"password":`, `""`, `{"password":{"nested":"w"}}`} {
		f.Add([]byte(seed), "s3cr3t-value")
	}
	f.Fuzz(func(t *testing.T, body []byte, secret string) {
		maskBody(body)
		if len(secret) < 6 || strings.ContainsAny(secret, `"\`) || !json.Valid([]byte(`"`+secret+`"`)) {
			return
		}
		doc := append(append([]byte(`{"password":"`), secret...), `","x":`...)
		if json.Valid(body) {
			doc = append(doc, body...)
		} else {
			doc = append(doc, "null"...)
		}
		doc = append(doc, '}')
		if !json.Valid(doc) {
			return
		}
		got := maskBody(doc)
		if strings.Contains(got, secret) && !strings.Contains(string(body), secret) {
			t.Fatalf("the password %q survived masking: %s", secret, got)
		}
	})
}

func TestLookupReadsDottedAndURNPaths(t *testing.T) {
	t.Parallel()
	var m map[string]any
	json.Unmarshal([]byte(`{"Name":{"givenName":"Ann"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"b"},"department":"R&D"}}`), &m)
	for path, want := range map[string]any{
		"name.givenName": "Ann",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager.value": "b",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.department":    "R&D",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.nothing":       nil,
		"name.familyName": nil,
	} {
		if got := lookup(m, path); got != want {
			t.Errorf("lookup(%q) = %v, want %v", path, got, want)
		}
	}
}

// FuzzAnswers: whatever a server answers, reading it as a ListResponse,
// a SCIM error, a discovery list or a resource ends the check as pass or
// fail, never with a crash.
func FuzzAnswers(f *testing.F) {
	for _, seed := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"startIndex":1,"itemsPerPage":1,"Resources":[{"id":"1","userName":"a"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":"1","Resources":{}}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","scimType":"invalidFilter","detail":"x"}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":404}`,
		`[{"id":"User","schema":"urn:ietf:params:scim:schemas:core:2.0:User"}]`,
		`{"Resources":null}`, `null`, `[]`, `{"totalResults":1e400}`, `{"totalResults":-0.5,"Resources":[1,"a",null]}`,
		`{"urn:a:b":{"c":{"d":[{"e":1}]}}}`, "\xff\xfe",
	} {
		f.Add([]byte(seed), "urn:a:b.c.d")
	}
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		resp := &Response{Method: "GET", Path: "/Users", Status: 200, Header: http.Header{"Content-Type": {"application/scim+json"}}, Body: body}
		for _, read := range []func(*T){
			func(t *T) { t.wantList(resp, "list") },
			func(t *T) { t.wantSCIMError(resp, "error", 200, "invalidFilter") },
			func(t *T) { t.wantSCIMJSON(resp) },
			func(t *T) { lookup(resp.object(t), path); str(resp.object(t), path) },
		} {
			ct := &T{status: Pass}
			ct.call(read)
			if strings.HasPrefix(ct.message, "the check crashed") {
				t.Fatalf("reading %q crashed: %s", body, ct.message)
			}
		}
		resourcesOf(resp)
		maskBody(body)
	})
}
