package resource_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

const (
	userURN       = schema.UserURN
	groupURN      = schema.GroupURN
	enterpriseURN = schema.EnterpriseUserURN
	// rosterURN is a custom User extension the tests register, with an
	// attribute of every primitive type and the characteristics the core
	// schemas lack (immutable, returned "request").
	rosterURN = "urn:ietf:params:scim:schemas:extension:roster:2.0:User"
)

const rosterSchema = `{
  "id": "` + rosterURN + `",
  "name": "RosterUser",
  "attributes": [
    {"name": "level", "type": "integer"},
    {"name": "score", "type": "decimal"},
    {"name": "hiredAt", "type": "dateTime"},
    {"name": "badge", "type": "binary"},
    {"name": "badgeNumber", "type": "string", "caseExact": true, "mutability": "immutable"},
    {"name": "clearance", "type": "string", "returned": "request"},
    {"name": "tags", "type": "string", "multiValued": true}
  ]
}`

// newRegistry returns the default registry with the roster extension added
// to the User resource type.
func newRegistry(tb testing.TB) *schema.Registry {
	tb.Helper()
	reg := schema.NewRegistry()
	s, err := schema.Parse([]byte(rosterSchema))
	if err != nil {
		tb.Fatalf("parse roster schema: %v", err)
	}
	if err := reg.AddExtension("User", s, false); err != nil {
		tb.Fatalf("add roster extension: %v", err)
	}
	return reg
}

func userType(tb testing.TB) *schema.ResourceType {
	tb.Helper()
	return newRegistry(tb).ResourceType("User")
}

func groupType(tb testing.TB) *schema.ResourceType {
	tb.Helper()
	return newRegistry(tb).ResourceType("Group")
}

// mustDecode decodes body leniently and fails the test on error.
func mustDecode(tb testing.TB, rt *schema.ResourceType, body string) *resource.Resource {
	tb.Helper()
	r, err := resource.Decode(rt, []byte(body), resource.Options{})
	if err != nil {
		tb.Fatalf("Decode(%s): %v", body, err)
	}
	return r
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// wantBadRequest checks that err is a 400 *scim.Error with the given
// scimType whose detail contains each of details.
func wantBadRequest(tb testing.TB, err error, scimType string, details ...string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want a 400 %s", scimType)
	}
	var serr *scim.Error
	if !errors.As(err, &serr) {
		tb.Fatalf("got %T %v, want a *scim.Error", err, err)
	}
	if serr.Status != http.StatusBadRequest || serr.ScimType != scimType {
		tb.Errorf("got %d %q, want 400 %q (%v)", serr.Status, serr.ScimType, scimType, err)
	}
	for _, d := range details {
		if !strings.Contains(serr.Detail, d) {
			tb.Errorf("detail %q does not mention %q", serr.Detail, d)
		}
	}
}

// encoded returns r encoded with p, decoded again by encoding/json.
func encoded(tb testing.TB, r *resource.Resource, p *resource.Projection) map[string]any {
	tb.Helper()
	out := r.AppendJSON(nil, p)
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		tb.Fatalf("AppendJSON wrote invalid JSON %s: %v", out, err)
	}
	return m
}

// jsonValue decodes a JSON literal the way encoding/json does, for
// comparing with encoded output.
func jsonValue(tb testing.TB, s string) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		tb.Fatalf("bad JSON in test %s: %v", s, err)
	}
	return m
}

func resolve(tb testing.TB, rt *schema.ResourceType, path string) schema.Ref {
	tb.Helper()
	ref, err := rt.Resolve(path)
	if err != nil {
		tb.Fatalf("Resolve(%q): %v", path, err)
	}
	return ref
}
