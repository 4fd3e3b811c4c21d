package schema_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim/schema"
)

// describe renders the characteristics RFC 7643 §7 defines for a, with
// canonicalValues and referenceTypes only when not empty: the RFC writes
// "canonicalValues": [] where the core schemas say nothing, and both mean
// that there are none.
func describe(a *schema.Attribute) string {
	s := fmt.Sprintf("%s multiValued=%t required=%t caseExact=%t %s %s %s",
		a.Type, a.MultiValued, a.Required, a.CaseExact, a.Mutability, a.Returned, a.Uniqueness)
	if len(a.CanonicalValues) > 0 {
		s += " canonicalValues=" + strings.Join(a.CanonicalValues, ",")
	}
	if len(a.ReferenceTypes) > 0 {
		s += " referenceTypes=" + strings.Join(a.ReferenceTypes, ",")
	}
	return s
}

// characteristics maps the path of every attribute and sub-attribute of s
// ("name", "name.givenName") to describe's rendering of it.
func characteristics(s *schema.Schema) map[string]string {
	m := make(map[string]string)
	for _, a := range s.Attributes {
		m[a.Name] = describe(a)
		for _, sub := range a.SubAttributes {
			m[a.Name+"."+sub.Name] = describe(sub)
		}
	}
	return m
}

func TestParseFillsInDefaultCharacteristics(t *testing.T) {
	s, err := schema.Parse([]byte(`{
		"id": "urn:example:params:scim:schemas:extension:minimal:2.0:User",
		"attributes": [
			{"name": "nickname"},
			{"name": "address", "type": "complex", "subAttributes": [{"name": "street"}]},
			{"name": "level", "type": "integer", "mutability": "readOnly", "returned": "always", "uniqueness": "global",
			 "required": true, "caseExact": true, "multiValued": true}
		]
	}`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := map[string]string{
		"nickname":       "string multiValued=false required=false caseExact=false readWrite default none",
		"address":        "complex multiValued=false required=false caseExact=false readWrite default none",
		"address.street": "string multiValued=false required=false caseExact=false readWrite default none",
		"level":          "integer multiValued=true required=true caseExact=true readOnly always global",
	}
	got := characteristics(s)
	for path, w := range want {
		if got[path] != w {
			t.Errorf("%s:\n got %s\nwant %s", path, got[path], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d attributes, want %d: %v", len(got), len(want), got)
	}
}

func TestParseKeepsWhatTheDocumentSays(t *testing.T) {
	s := parseFile(t, "acme.json")
	if s.ID != acmeURN || s.Name != "AcmeUser" || s.Description != "Acme's extension of the User resource" {
		t.Errorf("Parse = id %q name %q description %q", s.ID, s.Name, s.Description)
	}
	want := map[string]string{
		"costCenter":     "string multiValued=false required=false caseExact=false readWrite default none",
		"badgeNumber":    "integer multiValued=false required=false caseExact=false immutable default server",
		"hireDate":       "dateTime multiValued=false required=false caseExact=false readWrite request none",
		"tags":           "string multiValued=true required=false caseExact=true readWrite default none",
		"building":       "complex multiValued=false required=false caseExact=false readWrite default none",
		"building.name":  "string multiValued=false required=true caseExact=false readWrite default none canonicalValues=HQ,Lab,Warehouse",
		"building.floor": "integer multiValued=false required=false caseExact=false readWrite default none",
		"building.$ref":  "reference multiValued=false required=false caseExact=false readOnly default none referenceTypes=external",
	}
	got := characteristics(s)
	for path, w := range want {
		if got[path] != w {
			t.Errorf("%s:\n got %s\nwant %s", path, got[path], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d attributes, want %d: %v", len(got), len(want), got)
	}
}

func TestParseAcceptsWellFormedEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		{"an id in upper case", `{"id":"URN:EXAMPLE:X","attributes":[{"name":"a"}]}`},
		{"names with digits, hyphens and underscores", `{"id":"urn:x","attributes":[{"name":"a1-b_c"}]}`},
		{"a $ref sub-attribute", `{"id":"urn:x","attributes":[{"name":"m","type":"complex","subAttributes":[{"name":"$ref","type":"reference"}]}]}`},
		{"one sub-attribute name under two parents", `{"id":"urn:x","attributes":[
			{"name":"a","type":"complex","subAttributes":[{"name":"value"}]},
			{"name":"b","type":"complex","subAttributes":[{"name":"value"}]}]}`},
		{"a sub-attribute named like its parent", `{"id":"urn:x","attributes":[{"name":"a","type":"complex","subAttributes":[{"name":"a"}]}]}`},
		{"every simple type", `{"id":"urn:x","attributes":[{"name":"s","type":"string"},{"name":"b","type":"boolean"},
			{"name":"d","type":"decimal"},{"name":"i","type":"integer"},{"name":"t","type":"dateTime"},
			{"name":"y","type":"binary"},{"name":"r","type":"reference"}]}`},
		{"members RFC 7643 §7 adds around the schema", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Schema"],
			"id":"urn:x","attributes":[{"name":"a"}],"meta":{"resourceType":"Schema"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := schema.Parse([]byte(tt.doc)); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}

// badSchemas are documents Parse must reject, each with a part of the
// error message that says why.
var badSchemas = []struct {
	name string
	doc  string
	want string
}{
	{"invalid JSON", `{"id":"urn:x",`, "schema: unexpected end of JSON input"},
	{"a JSON array", `[{"id":"urn:x"}]`, "cannot unmarshal array"},
	{"a JSON string", `"urn:x"`, "cannot unmarshal string"},
	{"JSON null", `null`, "id must be a URN"},
	{"an attribute that is not an object", `{"id":"urn:x","attributes":["a"]}`, "cannot unmarshal string"},
	{"a type that is not a string", `{"id":"urn:x","attributes":[{"name":"a","type":1}]}`, "cannot unmarshal number"},
	{"no id", `{"attributes":[{"name":"a"}]}`, "id must be a URN"},
	{"an id that is a name", `{"id":"User","attributes":[{"name":"a"}]}`, "schema User: id must be a URN"},
	{"an id that is a URL", `{"id":"https://example.com/schemas/User","attributes":[{"name":"a"}]}`, "id must be a URN"},
	{"no attributes", `{"id":"urn:x"}`, "schema urn:x: no attributes"},
	{"an empty attribute list", `{"id":"urn:x","attributes":[]}`, "no attributes"},
	{"a null attribute", `{"id":"urn:x","attributes":[null]}`, "null attribute"},
	{"a name starting with a digit", `{"id":"urn:x","attributes":[{"name":"1abc"}]}`, `invalid attribute name "1abc"`},
	{"a name with a space", `{"id":"urn:x","attributes":[{"name":"a b"}]}`, `invalid attribute name "a b"`},
	{"an empty name", `{"id":"urn:x","attributes":[{"name":""}]}`, `invalid attribute name ""`},
	{"no name", `{"id":"urn:x","attributes":[{"type":"string"}]}`, `invalid attribute name ""`},
	{"a dotted name", `{"id":"urn:x","attributes":[{"name":"name.givenName"}]}`, `invalid attribute name "name.givenName"`},
	{"a name with a colon", `{"id":"urn:x","attributes":[{"name":"urn:x:a"}]}`, `invalid attribute name "urn:x:a"`},
	{"a name starting with $ other than $ref", `{"id":"urn:x","attributes":[{"name":"$value"}]}`, `invalid attribute name "$value"`},
	{"a name with a non-ASCII letter", `{"id":"urn:x","attributes":[{"name":"café"}]}`, `invalid attribute name "café"`},
	{"an invalid sub-attribute name", `{"id":"urn:x","attributes":[{"name":"a","type":"complex","subAttributes":[{"name":"-b"}]}]}`, `a: invalid attribute name "-b"`},
	{"a name defined twice", `{"id":"urn:x","attributes":[{"name":"a"},{"name":"a"}]}`, `attribute "a" defined twice`},
	{"a name defined twice in different cases", `{"id":"urn:x","attributes":[{"name":"costCenter"},{"name":"COSTCENTER"}]}`, `attribute "COSTCENTER" defined twice`},
	{"a sub-attribute defined twice", `{"id":"urn:x","attributes":[{"name":"a","type":"complex","subAttributes":[{"name":"v"},{"name":"V"}]}]}`, `a: attribute "V" defined twice`},
	{"an unknown type", `{"id":"urn:x","attributes":[{"name":"a","type":"text"}]}`, `attribute "a" has unknown type "text"`},
	{"an unknown sub-attribute type", `{"id":"urn:x","attributes":[{"name":"a","type":"complex","subAttributes":[{"name":"b","type":"object"}]}]}`, `unknown type "object"`},
	{"an unknown mutability", `{"id":"urn:x","attributes":[{"name":"a","mutability":"writeOnce"}]}`, `attribute "a" has unknown mutability "writeOnce"`},
	{"an unknown returned", `{"id":"urn:x","attributes":[{"name":"a","returned":"sometimes"}]}`, `attribute "a" has unknown returned "sometimes"`},
	{"an unknown uniqueness", `{"id":"urn:x","attributes":[{"name":"a","uniqueness":"unique"}]}`, `attribute "a" has unknown uniqueness "unique"`},
	{"an unknown sub-attribute mutability", `{"id":"urn:x","attributes":[{"name":"a","type":"complex","subAttributes":[{"name":"b","mutability":"x"}]}]}`, `unknown mutability "x"`},
	{"a complex attribute without subAttributes", `{"id":"urn:x","attributes":[{"name":"a","type":"complex"}]}`, `complex attribute "a" has no sub-attributes`},
	{"a complex attribute with empty subAttributes", `{"id":"urn:x","attributes":[{"name":"a","type":"complex","subAttributes":[]}]}`, `complex attribute "a" has no sub-attributes`},
	{"a complex sub-attribute", `{"id":"urn:x","attributes":[{"name":"a","type":"complex","subAttributes":[{"name":"b","type":"complex","subAttributes":[{"name":"c"}]}]}]}`, `a: sub-attribute "b" is complex`},
	{"a string attribute with subAttributes", `{"id":"urn:x","attributes":[{"name":"a","type":"string","subAttributes":[{"name":"b"}]}]}`, `attribute "a" of type string has sub-attributes`},
	{"an attribute of default type with subAttributes", `{"id":"urn:x","attributes":[{"name":"a","subAttributes":[{"name":"b"}]}]}`, `attribute "a" of type string has sub-attributes`},
	{"an integer attribute with subAttributes", `{"id":"urn:x","attributes":[{"name":"a","type":"integer","subAttributes":[{"name":"b"}]}]}`, `attribute "a" of type integer has sub-attributes`},
	{"a sub-attribute with its own subAttributes", `{"id":"urn:x","attributes":[{"name":"a","type":"complex","subAttributes":[{"name":"b","subAttributes":[{"name":"c"}]}]}]}`, `a: attribute "b" of type string has sub-attributes`},
}

func TestParseRejectsMalformedSchemas(t *testing.T) {
	for _, tt := range badSchemas {
		t.Run(tt.name, func(t *testing.T) {
			s, err := schema.Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse(%s) = %+v, want an error", tt.doc, s)
			}
			if s != nil {
				t.Errorf("Parse returned a schema along with error %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %q, want one containing %q", err, tt.want)
			}
		})
	}
}

// rfcSchemas reads the schema representations of RFC 7643 §8.7.1 (the
// User, Group and Enterprise User schemas), one raw document per schema.
func rfcSchemas(t testing.TB) []json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "rfc7643-8.7.1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var docs []json.RawMessage
	if err := json.Unmarshal(data, &docs); err != nil {
		t.Fatal(err)
	}
	return docs
}

// TestParseMatchesTheCoreSchemasOfRFC7643 parses the normative schema
// representation of RFC 7643 §8.7.1 and compares every attribute's
// characteristics with UserSchema, GroupSchema and EnterpriseUserSchema.
// Where core.go departs from §8.7.1 on purpose (each departure has a
// comment there), the difference is listed in deviations; any other
// difference, or a listed one that has gone, fails the test.
func TestParseMatchesTheCoreSchemasOfRFC7643(t *testing.T) {
	ours := map[string]*schema.Schema{
		schema.UserURN:           schema.UserSchema(),
		schema.GroupURN:          schema.GroupSchema(),
		schema.EnterpriseUserURN: schema.EnterpriseUserSchema(),
	}
	deviations := map[string]string{
		// §8.7.1 lists no primary for addresses; §2.4, §4.1.2 and the
		// examples of §8.2 use one.
		schema.UserURN + ":addresses.primary": "only in ours",
		// §8.7.1 says required false; §4.2 and the description say REQUIRED.
		schema.GroupURN + ":displayName": "RFC string multiValued=false required=false caseExact=false readWrite default none; " +
			"ours string multiValued=false required=true caseExact=false readWrite default none",
		// §8.7.1 lists no display for members; §2.4 and §8.4 use one.
		schema.GroupURN + ":members.display": "only in ours",
	}

	docs := rfcSchemas(t)
	if len(docs) != 3 {
		t.Fatalf("testdata holds %d schemas, want 3", len(docs))
	}
	found := make(map[string]string)
	for _, doc := range docs {
		rfc, err := schema.Parse(doc)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		our := ours[rfc.ID]
		if our == nil {
			t.Fatalf("unexpected schema %s in testdata", rfc.ID)
		}
		delete(ours, rfc.ID)
		if rfc.Name != our.Name || rfc.Description != our.Description {
			t.Errorf("%s: RFC name %q description %q, ours %q %q", rfc.ID, rfc.Name, rfc.Description, our.Name, our.Description)
		}

		want, got := characteristics(rfc), characteristics(our)
		for _, path := range slices.Sorted(mapKeys(want, got)) {
			key := rfc.ID + ":" + path
			w, inRFC := want[path]
			g, inOurs := got[path]
			switch {
			case !inOurs:
				found[key] = "only in the RFC"
			case !inRFC:
				found[key] = "only in ours"
			case w != g:
				found[key] = fmt.Sprintf("RFC %s; ours %s", w, g)
			}
		}
		// Attributes both define come in the same order.
		inBoth := func(path string) bool {
			_, inRFC := want[path]
			_, inOurs := got[path]
			return inRFC && inOurs
		}
		if o, r := attrOrder(our, inBoth), attrOrder(rfc, inBoth); o != r {
			t.Errorf("%s: attribute order differs:\n ours %s\n RFC  %s", rfc.ID, o, r)
		}
	}
	for id := range ours {
		t.Errorf("testdata lacks %s", id)
	}

	for key, diff := range found {
		if deviations[key] == diff {
			t.Logf("known deviation from RFC 7643 §8.7.1: %s: %s", key, diff)
			continue
		}
		t.Errorf("%s differs from RFC 7643 §8.7.1: %s", key, diff)
	}
	for key := range deviations {
		if _, ok := found[key]; !ok {
			t.Errorf("%s no longer deviates from RFC 7643 §8.7.1; remove it from the list", key)
		}
	}
	// The one difference in wording: roles.type and x509Certificates.type
	// say "canonicalValues": [] in the RFC and nothing in UserSchema.
	user := schema.UserSchema()
	for _, path := range []string{"roles", "x509Certificates"} {
		if cv := user.Attribute(path).SubAttribute("type").CanonicalValues; len(cv) != 0 {
			t.Errorf("%s.type has canonical values %v, want none", path, cv)
		}
	}
}

// attrOrder lists the attribute paths of s that keep accepts, in document
// order.
func attrOrder(s *schema.Schema, keep func(path string) bool) string {
	var out []string
	for _, a := range s.Attributes {
		for _, p := range append([]string{a.Name}, subPaths(a)...) {
			if keep(p) {
				out = append(out, p)
			}
		}
	}
	return strings.Join(out, ",")
}

func subPaths(a *schema.Attribute) []string {
	var out []string
	for _, sub := range a.SubAttributes {
		out = append(out, a.Name+"."+sub.Name)
	}
	return out
}

func mapKeys(ms ...map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		seen := make(map[string]bool)
		for _, m := range ms {
			for k := range m {
				if !seen[k] {
					seen[k] = true
					if !yield(k) {
						return
					}
				}
			}
		}
	}
}

// FuzzParse checks that Parse never panics and that what it accepts is
// normalized: encoding the schema and parsing it again changes nothing,
// and the schema can be served and resolved through a resource type.
func FuzzParse(f *testing.F) {
	for _, tt := range badSchemas {
		f.Add([]byte(tt.doc))
	}
	for _, doc := range rfcSchemas(f) {
		f.Add([]byte(doc))
	}
	acme, err := os.ReadFile(filepath.Join("testdata", "acme.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(acme)
	f.Add([]byte(`{"id":"urn:x","attributes":[{"name":"a"},{"name":"c","type":"complex","subAttributes":[{"name":"$ref"}]}]}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := schema.Parse(data)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse returned a schema along with error %v", err)
			}
			return
		}
		if s == nil {
			t.Fatal("Parse returned neither a schema nor an error")
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		s2, err := schema.Parse(again)
		if err != nil {
			t.Fatalf("Parse accepted %s but not its re-encoding %s: %v", data, again, err)
		}
		want, got := characteristics(s), characteristics(s2)
		if len(want) != len(got) {
			t.Fatalf("re-parsing changed the attributes: %v, then %v", want, got)
		}
		for path, w := range want {
			if got[path] != w {
				t.Fatalf("re-parsing changed %s: %s, then %s", path, w, got[path])
			}
		}
		if _, err := json.Marshal(s.Document("https://example.com/v2")); err != nil {
			t.Fatalf("Marshal(Document): %v", err)
		}

		// As an extension of Group, every attribute resolves by its URN.
		reg := schema.NewRegistry()
		if reg.Schema(s.ID) != nil {
			return
		}
		if err := reg.AddExtension("Group", s, false); err != nil {
			t.Fatalf("AddExtension: %v", err)
		}
		groups := reg.ResourceType("Group")
		for _, a := range s.Attributes {
			paths := []string{s.ID + ":" + a.Name}
			for _, sub := range a.SubAttributes {
				paths = append(paths, s.ID+":"+a.Name+"."+sub.Name)
			}
			for _, p := range paths {
				if _, err := groups.Resolve(p); err != nil {
					t.Fatalf("Resolve(%s): %v", p, err)
				}
			}
		}
	})
}
