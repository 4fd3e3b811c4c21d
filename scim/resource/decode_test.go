package resource_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

// The examples of RFC 7643 §8, verbatim (the x509 certificate joined onto
// one line, as the RFC's line folding is not JSON).
var rfcExamples = []struct {
	name, file, resourceType string
	// want holds attributes the decoded resource must have, beyond
	// userName or displayName.
	want     map[string]any
	password bool
}{
	{name: "minimal user (§8.1)", file: "rfc7643-8.1-minimal-user.json", resourceType: "User"},
	{
		name: "full user (§8.2)", file: "rfc7643-8.2-full-user.json", resourceType: "User", password: true,
		want: map[string]any{
			"externalId": "701984",
			"active":     true,
			"emails": []any{
				map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true},
				map[string]any{"value": "babs@jensen.org", "type": "home"},
			},
		},
	},
	{
		name: "enterprise user (§8.3)", file: "rfc7643-8.3-enterprise-user.json", resourceType: "User", password: true,
		want: map[string]any{
			enterpriseURN: map[string]any{
				"employeeNumber": "701984",
				"costCenter":     "4130",
				"organization":   "Universal Studios",
				"division":       "Theme Park",
				"department":     "Tour Operations",
				// displayName is readOnly and dropped.
				"manager": map[string]any{
					"value": "26118915-6090-4610-87e4-49d8ca9f808d",
					"$ref":  "../Users/26118915-6090-4610-87e4-49d8ca9f808d",
				},
			},
		},
	},
	{
		name: "group (§8.4)", file: "rfc7643-8.4-group.json", resourceType: "Group",
		want: map[string]any{
			"members": []any{
				map[string]any{
					"value":   "2819c223-7f76-453a-919d-413861904646",
					"$ref":    "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
					"display": "Babs Jensen",
				},
				map[string]any{
					"value":   "902c246b-6245-4190-8e05-00816be7344a",
					"$ref":    "https://example.com/v2/Users/902c246b-6245-4190-8e05-00816be7344a",
					"display": "Mandy Pepperidge",
				},
			},
		},
	},
}

func TestDecodeAcceptsTheRFCExamples(t *testing.T) {
	reg := newRegistry(t)
	for _, tt := range rfcExamples {
		t.Run(tt.name, func(t *testing.T) {
			rt := reg.ResourceType(tt.resourceType)
			body := readTestdata(t, tt.file)
			r, err := resource.Decode(rt, body, resource.Options{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			for _, readOnly := range []string{"id", "meta", "groups"} {
				if v, ok := r.Attrs[readOnly]; ok {
					t.Errorf("readOnly %s was kept from the request: %v", readOnly, v)
				}
			}
			for k, want := range tt.want {
				if got := r.Attrs[k]; !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
			if tt.password && r.Attrs["password"] != "t1meMa$heen" {
				t.Errorf("password = %v, want it kept for the store", r.Attrs["password"])
			}
			if err := r.Validate(); err != nil {
				t.Errorf("Validate after Decode: %v", err)
			}
		})
	}
}

func TestDecodeStrictAcceptsTheRFCExamples(t *testing.T) {
	reg := newRegistry(t)
	for _, tt := range rfcExamples {
		t.Run(tt.name, func(t *testing.T) {
			rt := reg.ResourceType(tt.resourceType)
			if _, err := resource.Decode(rt, readTestdata(t, tt.file), resource.Options{Strict: true}); err != nil {
				t.Fatalf("Decode strict: %v", err)
			}
		})
	}
}

func TestRFCExamplesRoundTripWithoutThePassword(t *testing.T) {
	reg := newRegistry(t)
	for _, tt := range rfcExamples {
		t.Run(tt.name, func(t *testing.T) {
			rt := reg.ResourceType(tt.resourceType)
			r, err := resource.Decode(rt, readTestdata(t, tt.file), resource.Options{})
			if err != nil {
				t.Fatal(err)
			}
			out := r.AppendJSON(nil, nil)
			if !json.Valid(out) {
				t.Fatalf("AppendJSON wrote invalid JSON: %s", out)
			}
			if strings.Contains(string(out), "password") || strings.Contains(string(out), "t1meMa$heen") {
				t.Errorf("the password was written: %s", out)
			}
			again, err := resource.Decode(rt, out, resource.Options{Strict: true})
			if err != nil {
				t.Fatalf("decoding our own output: %v\n%s", err, out)
			}
			want := r.Clone()
			delete(want.Attrs, "password") // returned "never", so it cannot survive
			if !reflect.DeepEqual(again.Attrs, want.Attrs) {
				t.Errorf("round trip changed the attributes:\n got %#v\nwant %#v", again.Attrs, want.Attrs)
			}
		})
	}
}

// coercionCases are User bodies that decode, with the attributes they
// decode to as JSON, besides "userName": "u".
var coercionCases = []struct {
	name string
	body string
	want string
}{
	{"attribute names are matched case-insensitively", `{"USERNAME": "u", "DisplayName": "Babs"}`, `{"displayName": "Babs"}`},
	{"sub-attribute names are matched case-insensitively", `{"userName": "u", "Name": {"GivenName": "Barbara", "FAMILYNAME": "Jensen"}}`,
		`{"name": {"givenName": "Barbara", "familyName": "Jensen"}}`},
	{"a URN-qualified core attribute is the core attribute", `{"urn:ietf:params:scim:schemas:core:2.0:User:userName": "u"}`, `{}`},
	{"a URN-qualified core attribute is matched case-insensitively", `{"URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:USERNAME": "u"}`, `{}`},
	{"a dotted name sets one sub-attribute", `{"userName": "u", "name.givenName": "Barbara"}`, `{"name": {"givenName": "Barbara"}}`},
	{"a URN-qualified extension attribute goes into its extension",
		`{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "R&D"}`,
		`{"` + enterpriseURN + `": {"department": "R&D"}}`},
	{"a URN-qualified extension sub-attribute goes into its extension",
		`{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value": "m-1"}`,
		`{"` + enterpriseURN + `": {"manager": {"value": "m-1"}}}`},
	{"an unqualified extension attribute is found in its extension", `{"userName": "u", "department": "R&D"}`,
		`{"` + enterpriseURN + `": {"department": "R&D"}}`},
	{"an extension object holds the extension's attributes",
		`{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"Department": "R&D", "manager": {"value": "m-1"}}}`,
		`{"` + enterpriseURN + `": {"department": "R&D", "manager": {"value": "m-1"}}}`},
	{"an extension object's URN is matched case-insensitively",
		`{"userName": "u", "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {"department": "R&D"}}`,
		`{"` + enterpriseURN + `": {"department": "R&D"}}`},
	{"an extension object and a URN-qualified attribute merge",
		`{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division": "Parks"}`,
		`{"` + enterpriseURN + `": {"department": "R&D", "division": "Parks"}}`},
	{"active as the string False is false", `{"userName": "u", "active": "False"}`, `{"active": false}`},
	{"active as the string TRUE is true", `{"userName": "u", "active": "TRUE"}`, `{"active": true}`},
	{"primary as a string is a boolean", `{"userName": "u", "emails": [{"value": "a@x.com", "primary": "True"}]}`,
		`{"emails": [{"value": "a@x.com", "primary": true}]}`},
	{"an integer as a string is an integer", `{"userName": "u", "level": "42"}`, `{"` + rosterURN + `": {"level": 42}}`},
	{"a negative integer as a string is an integer", `{"userName": "u", "level": " -7 "}`, `{"` + rosterURN + `": {"level": -7}}`},
	{"an integer with an exponent is an integer", `{"userName": "u", "level": 1e3}`, `{"` + rosterURN + `": {"level": 1000}}`},
	{"an integer with a negative exponent that stays whole is an integer", `{"userName": "u", "level": "120e-1"}`, `{"` + rosterURN + `": {"level": 12}}`},
	{"the largest integer is kept exactly", `{"userName": "u", "level": 9223372036854775807}`, `{"` + rosterURN + `": {"level": 9223372036854775807}}`},
	{"a decimal as a string is a decimal", `{"userName": "u", "score": "3.5"}`, `{"` + rosterURN + `": {"score": 3.5}}`},
	{"a whole number is a decimal", `{"userName": "u", "score": 2}`, `{"` + rosterURN + `": {"score": 2}}`},
	{"a decimal with an exponent is a decimal", `{"userName": "u", "score": "-1.5E-3"}`, `{"` + rosterURN + `": {"score": -0.0015}}`},
	{"a dateTime is kept as sent", `{"userName": "u", "hiredAt": "2011-05-13T04:42:34.5+02:00"}`, `{"` + rosterURN + `": {"hiredAt": "2011-05-13T04:42:34.5+02:00"}}`},
	{"a dateTime without a zone is accepted", `{"userName": "u", "hiredAt": "2011-05-13T04:42:34"}`, `{"` + rosterURN + `": {"hiredAt": "2011-05-13T04:42:34"}}`},
	{"binary in standard base64 is kept as sent", `{"userName": "u", "badge": "aGk="}`, `{"` + rosterURN + `": {"badge": "aGk="}}`},
	{"binary in unpadded base64 is kept as sent", `{"userName": "u", "badge": "aGk"}`, `{"` + rosterURN + `": {"badge": "aGk"}}`},
	{"the manager as a plain string is its value",
		`{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "m-1"}}`,
		`{"` + enterpriseURN + `": {"manager": {"value": "m-1"}}}`},
	{"the URN-qualified manager as a plain string is its value (Entra)",
		`{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": "m-1"}`,
		`{"` + enterpriseURN + `": {"manager": {"value": "m-1"}}}`},
	{"a single object for a multi-valued attribute is a list of one", `{"userName": "u", "emails": {"value": "a@x.com"}}`,
		`{"emails": [{"value": "a@x.com"}]}`},
	{"a single string for a multi-valued complex attribute is a list of one value", `{"userName": "u", "emails": "a@x.com"}`,
		`{"emails": [{"value": "a@x.com"}]}`},
	{"plain strings in a multi-valued complex attribute are values", `{"userName": "u", "emails": ["a@x.com", "b@x.com"]}`,
		`{"emails": [{"value": "a@x.com"}, {"value": "b@x.com"}]}`},
	{"a single string for a multi-valued string attribute is a list of one", `{"userName": "u", "tags": "x"}`, `{"` + rosterURN + `": {"tags": ["x"]}}`},
	{"null is no value", `{"userName": "u", "displayName": null, "active": null}`, `{}`},
	{"an empty list is no value", `{"userName": "u", "emails": [], "tags": []}`, `{}`},
	{"an empty object is no value", `{"userName": "u", "name": {}}`, `{}`},
	{"an object of nulls is no value", `{"userName": "u", "name": {"givenName": null, "familyName": null}}`, `{}`},
	{"null and empty elements are dropped from a list", `{"userName": "u", "emails": [null, {}, {"value": null}, {"value": "a@x.com"}]}`,
		`{"emails": [{"value": "a@x.com"}]}`},
	{"a list of nulls is no value", `{"userName": "u", "emails": [null, {}]}`, `{}`},
	{"a null extension object is no value", `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": null}`, `{}`},
	{"an empty extension object is no value", `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {}}`, `{}`},
	{"an extension object of nulls is no value", `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": null, "manager": {}}}`, `{}`},
	{"a null URN-qualified extension attribute is no value",
		`{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": null}`, `{}`},
	{"a null URN-qualified extension sub-attribute is no value",
		`{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value": null}`, `{}`},
	{"a null dotted sub-attribute is no value", `{"userName": "u", "name.givenName": null}`, `{}`},
	{"readOnly attributes are dropped", `{"userName": "u", "id": "x", "meta": {"version": "W/\"1\""}, "groups": [{"value": "g"}]}`, `{}`},
	{"readOnly sub-attributes are dropped",
		`{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m-1", "displayName": "Boss"}}}`,
		`{"` + enterpriseURN + `": {"manager": {"value": "m-1"}}}`},
	{"a readOnly dotted sub-attribute is dropped",
		`{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName": "Boss"}`, `{}`},
	{"externalId is kept", `{"userName": "u", "externalId": "00u1"}`, `{"externalId": "00u1"}`},
	{"the password is kept", `{"userName": "u", "password": "s3cret"}`, `{"password": "s3cret"}`},
	{"strings are kept exactly as sent", `{"userName": "u", "displayName": "  Ünïcode \u2028 \"q\" \\ "}`,
		`{"displayName": "  Ünïcode \u2028 \"q\" \\ "}`},
	{"Okta's create body decodes", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u",
			"name": {"givenName": "Ann", "familyName": "Lee"}, "emails": [{"primary": true, "value": "ann@x.com", "type": "work"}],
			"displayName": "Ann Lee", "locale": "en-US", "externalId": "00u1", "groups": [], "password": "pw", "active": true}`,
		`{"name": {"givenName": "Ann", "familyName": "Lee"}, "emails": [{"primary": true, "value": "ann@x.com", "type": "work"}],
			"displayName": "Ann Lee", "locale": "en-US", "externalId": "00u1", "password": "pw", "active": true}`},
}

func TestDecodeNamesAndCoercions(t *testing.T) {
	rt := userType(t)
	for _, tt := range coercionCases {
		t.Run(tt.name, func(t *testing.T) {
			r := mustDecode(t, rt, tt.body)
			want := wantAttrs(t, tt.want)
			want["userName"] = "u"
			if !reflect.DeepEqual(r.Attrs, want) {
				t.Errorf("Attrs = %#v\nwant %#v", r.Attrs, want)
			}
		})
	}
}

// wantAttrs turns the JSON of expected attributes into the package's form:
// the roster extension's integer "level" becomes int64, other numbers
// float64.
func wantAttrs(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("bad JSON in test %s: %v", s, err)
	}
	var convert func(key string, v any) any
	convert = func(key string, v any) any {
		switch v := v.(type) {
		case json.Number:
			if key == "level" {
				n, err := v.Int64()
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			f, err := v.Float64()
			if err != nil {
				t.Fatal(err)
			}
			return f
		case map[string]any:
			for k, el := range v {
				v[k] = convert(k, el)
			}
		case []any:
			for i, el := range v {
				v[i] = convert(key, el)
			}
		}
		return v
	}
	convert("", m)
	return m
}

// rejectCases are bodies Decode must reject with a 400 of scimType whose
// detail mentions each of detail.
var rejectCases = []struct {
	name     string
	group    bool
	strict   bool
	body     string
	scimType string
	detail   []string
}{
	{name: "malformed JSON", body: `{"userName": "u",`, scimType: scim.InvalidSyntax, detail: []string{"not valid JSON"}},
	{name: "an empty body", body: ``, scimType: scim.InvalidSyntax, detail: []string{"not valid JSON"}},
	{name: "trailing garbage", body: `{"userName": "u"} x`, scimType: scim.InvalidSyntax, detail: []string{"after the JSON value"}},
	{name: "a second JSON value", body: `{"userName": "u"}{}`, scimType: scim.InvalidSyntax, detail: []string{"after the JSON value"}},
	{name: "an array body", body: `[{"userName": "u"}]`, scimType: scim.InvalidSyntax, detail: []string{"JSON object"}},
	{name: "a null body", body: `null`, scimType: scim.InvalidSyntax, detail: []string{"JSON object"}},
	{name: "a string body", body: `"x"`, scimType: scim.InvalidSyntax, detail: []string{"JSON object"}},
	{name: "a number body", body: `1`, scimType: scim.InvalidSyntax, detail: []string{"JSON object"}},
	{name: "userName as a number", body: `{"userName": 42}`, scimType: scim.InvalidValue, detail: []string{"userName", "string", "42"}},
	{name: "userName as a boolean", body: `{"userName": true}`, scimType: scim.InvalidValue, detail: []string{"userName", "boolean true"}},
	{name: "active as maybe", body: `{"userName": "u", "active": "maybe"}`, scimType: scim.InvalidValue, detail: []string{"active", `"maybe"`}},
	{name: "active as a number", body: `{"userName": "u", "active": 1}`, scimType: scim.InvalidValue, detail: []string{"active", "boolean"}},
	{name: "emails holding numbers", body: `{"userName": "u", "emails": [42]}`, scimType: scim.InvalidValue, detail: []string{"emails.value"}},
	{name: "emails holding arrays", body: `{"userName": "u", "emails": [["a@x.com"]]}`, scimType: scim.InvalidValue, detail: []string{"emails", "object"}},
	{name: "an email value as an object", body: `{"userName": "u", "emails": [{"value": {"a": 1}}]}`, scimType: scim.InvalidValue, detail: []string{"emails.value"}},
	{name: "name as a string", body: `{"userName": "u", "name": "Barbara Jensen"}`, scimType: scim.InvalidValue, detail: []string{"name", "object"}},
	{name: "name as an array", body: `{"userName": "u", "name": [{"givenName": "B"}]}`, scimType: scim.InvalidValue, detail: []string{"name", "single-valued"}},
	{name: "a single-valued string as an array", body: `{"userName": "u", "displayName": ["a"]}`, scimType: scim.InvalidValue, detail: []string{"displayName"}},
	{name: "two primary emails", body: `{"userName": "u", "emails": [{"value": "a@x.com", "primary": true}, {"value": "b@x.com", "primary": "true"}]}`,
		scimType: scim.InvalidValue, detail: []string{"emails", "primary"}},
	{name: "a missing userName", body: `{"displayName": "Babs"}`, scimType: scim.InvalidValue, detail: []string{"userName", "required"}},
	{name: "a null userName", body: `{"userName": null}`, scimType: scim.InvalidValue, detail: []string{"userName", "required"}},
	{name: "a missing Group displayName", group: true, body: `{"members": [{"value": "u-1"}]}`, scimType: scim.InvalidValue, detail: []string{"displayName", "required"}},
	{name: "an unknown schema URN in schemas when strict", strict: true, body: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:example:unknown"], "userName": "u"}`,
		scimType: scim.InvalidValue, detail: []string{"urn:example:unknown"}},
	{name: "the Group schema on a User when strict", strict: true, body: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "userName": "u"}`,
		scimType: scim.InvalidValue, detail: []string{groupURN}},
	{name: "schemas as a string", body: `{"schemas": "urn:ietf:params:scim:schemas:core:2.0:User", "userName": "u"}`,
		scimType: scim.InvalidValue, detail: []string{"schemas", "array"}},
	{name: "schemas holding a number", body: `{"schemas": [1], "userName": "u"}`, scimType: scim.InvalidValue, detail: []string{"schemas"}},
	{name: "an invalid dateTime", body: `{"userName": "u", "hiredAt": "13/05/2011"}`, scimType: scim.InvalidValue, detail: []string{"hiredAt", "dateTime"}},
	{name: "a dateTime as a number", body: `{"userName": "u", "hiredAt": 1305261754}`, scimType: scim.InvalidValue, detail: []string{"hiredAt"}},
	{name: "binary that is not base64", body: `{"userName": "u", "badge": "not base64!"}`, scimType: scim.InvalidValue, detail: []string{"badge", "base64"}},
	{name: "an x509 certificate that is not base64", body: `{"userName": "u", "x509Certificates": [{"value": "%%%"}]}`,
		scimType: scim.InvalidValue, detail: []string{"x509Certificates.value", "base64"}},
	{name: "an integer with a fraction", body: `{"userName": "u", "level": 4.5}`, scimType: scim.InvalidValue, detail: []string{"level", "integer"}},
	{name: "an integer as a word", body: `{"userName": "u", "level": "four"}`, scimType: scim.InvalidValue, detail: []string{"level", "integer"}},
	{name: "an integer below the int64 range", body: `{"userName": "u", "level": "-9223372036854775809"}`, scimType: scim.InvalidValue, detail: []string{"level", "integer"}},
	{name: "an integer above the int64 range", body: `{"userName": "u", "level": 9223372036854775808}`, scimType: scim.InvalidValue, detail: []string{"level", "integer"}},
	{name: "an exponent that leaves a fraction", body: `{"userName": "u", "level": 123456789012345678901e-3}`, scimType: scim.InvalidValue, detail: []string{"level", "integer"}},
	{name: "a huge exponent", body: `{"userName": "u", "level": 1e999999}`, scimType: scim.InvalidValue, detail: []string{"level", "integer"}},
	{name: "a tiny exponent", body: `{"userName": "u", "level": 1e-999999}`, scimType: scim.InvalidValue, detail: []string{"level", "integer"}},
	{name: "a decimal as a word", body: `{"userName": "u", "score": "high"}`, scimType: scim.InvalidValue, detail: []string{"score", "number"}},
	{name: "a decimal out of range", body: `{"userName": "u", "score": 1e400}`, scimType: scim.InvalidValue, detail: []string{"score", "number"}},
	{name: "an extension that is not an object", body: `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "R&D"}`,
		scimType: scim.InvalidValue, detail: []string{enterpriseURN, "object"}},
	{name: "a bad value inside an extension object", body: `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": 7}}`,
		scimType: scim.InvalidValue, detail: []string{"department"}},
	{name: "a sub-attribute of a multi-valued attribute on its own", body: `{"userName": "u", "emails.value": "a@x.com"}`,
		scimType: scim.InvalidValue, detail: []string{"emails"}},
	{name: "a sub-attribute of a simple attribute", body: `{"userName": "u", "userName.first": "x"}`, scimType: scim.InvalidValue, detail: []string{"userName"}},
	{name: "an unknown attribute when strict", strict: true, body: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u", "favouriteColour": "blue"}`,
		scimType: scim.InvalidValue, detail: []string{"favouriteColour"}},
	{name: "an unknown sub-attribute when strict", strict: true, body: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u", "name": {"givenName": "B", "nickname": "Babs"}}`,
		scimType: scim.InvalidValue, detail: []string{"name", "nickname"}},
	{name: "an unknown dotted sub-attribute when strict", strict: true, body: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u", "name.nickname": "Babs"}`,
		scimType: scim.InvalidValue, detail: []string{"name.nickname"}},
	{name: "an unknown attribute in an extension object when strict", strict: true,
		body:     `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"badge": "x"}}`,
		scimType: scim.InvalidValue, detail: []string{"badge"}},
	{name: "an unknown URN-qualified attribute when strict", strict: true,
		body:     `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "u", "urn:example:other:1.0:User:shoeSize": 44}`,
		scimType: scim.InvalidValue, detail: []string{"urn:example:other:1.0:User:shoeSize"}},
	{name: "a missing schemas when strict", strict: true, body: `{"userName": "u"}`, scimType: scim.InvalidValue, detail: []string{"schemas", userURN}},
	{name: "schemas without the core schema when strict", strict: true,
		body: `{"schemas": ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], "userName": "u"}`, scimType: scim.InvalidValue, detail: []string{"schemas", userURN}},
	{name: "a member value as a number", group: true, body: `{"displayName": "G", "members": [{"value": 7}]}`, scimType: scim.InvalidValue, detail: []string{"members.value"}},
}

func TestDecodeRejects(t *testing.T) {
	reg := newRegistry(t)
	for _, tt := range rejectCases {
		t.Run(tt.name, func(t *testing.T) {
			rt := reg.ResourceType("User")
			if tt.group {
				rt = reg.ResourceType("Group")
			}
			r, err := resource.Decode(rt, []byte(tt.body), resource.Options{Strict: tt.strict})
			if r != nil {
				t.Errorf("got a resource with the error: %#v", r.Attrs)
			}
			wantBadRequest(t, err, tt.scimType, tt.detail...)
		})
	}
}

// ignoredCases are User bodies with names the schemas do not define, which
// Decode ignores unless strict, reporting the names in ignored.
var ignoredCases = []struct {
	name    string
	body    string
	ignored []string
}{
	{"an unknown attribute", `{"userName": "u", "favouriteColour": "blue"}`, []string{"favouriteColour"}},
	{"an unknown sub-attribute", `{"userName": "u", "name": {"nickname": "Babs"}}`, []string{"name.nickname"}},
	{"an unknown dotted sub-attribute", `{"userName": "u", "name.nickname": "Babs"}`, []string{"name.nickname"}},
	{"an unknown attribute in an extension object", `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"badge": "x"}}`,
		[]string{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:badge"}},
	{"an attribute of an unknown schema", `{"userName": "u", "urn:example:other:1.0:User:shoeSize": 44}`, []string{"urn:example:other:1.0:User:shoeSize"}},
	{"an unknown sub-attribute of an email", `{"userName": "u", "emails": [{"value": "a@x.com", "verified": true}]}`, []string{"emails.verified"}},
	{"a missing schemas", `{"userName": "u"}`, nil},
	{"schemas without the core schema", `{"schemas": ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], "userName": "u"}`, nil},
	{"an empty attribute name", `{"userName": "u", "": 1}`, []string{""}},
	{"an unknown schema URN in schemas", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:example:unknown"], "userName": "u"}`,
		[]string{"urn:example:unknown"}},
	{"the Group schema on a User", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "userName": "u"}`, []string{groupURN}},
	{"EntraID: the ADSCIM schema beside the core one", `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
		"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User"], "userName": "u"}`,
		[]string{"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User"}},
	{"an object under a schema URL that is not a URN", `{"userName": "u",
		"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User": {"objectId": "x"}}`,
		[]string{"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User"}},
	{"EntraID: a custom extension listed, with its attributes as an object and URN-qualified",
		`{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"],
		"userName": "u", "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User": {"costCode": "42"},
		"urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:badge": "B-1"}`,
		[]string{"urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User",
			"urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User",
			"urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:badge"}},
}

func TestDecodeIgnoresUnknownNamesByDefault(t *testing.T) {
	rt := userType(t)
	for _, tt := range ignoredCases {
		t.Run(tt.name, func(t *testing.T) {
			var ignored []string
			r, err := resource.Decode(rt, []byte(tt.body), resource.Options{Ignored: func(name string) { ignored = append(ignored, name) }})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !slices.Equal(ignored, tt.ignored) {
				t.Errorf("Ignored heard %q, want %q", ignored, tt.ignored)
			}
			if r.Attrs["userName"] != "u" {
				t.Errorf("userName = %v", r.Attrs["userName"])
			}
			for k, v := range r.Attrs {
				switch k {
				case "userName":
				case "emails":
					if want := []any{map[string]any{"value": "a@x.com"}}; !reflect.DeepEqual(v, want) {
						t.Errorf("emails = %#v, want %#v", v, want)
					}
				default:
					t.Errorf("unexpected attribute %s = %#v", k, v)
				}
			}
		})
	}
}

// duplicateNameCases name one attribute twice (in different case, or as a
// whole and as a dotted sub-attribute), or hold several errors. Each must
// decode, or fail, the same way every time, whatever order Go's map
// iteration picks.
var duplicateNameCases = []struct {
	name string
	body string
}{
	{"an attribute in two cases", `{"userName": "u", "displayName": "a", "DISPLAYNAME": "b", "DisplayName": "c"}`},
	{"a sub-attribute in two cases", `{"userName": "u", "name": {"givenName": "a", "GIVENNAME": "b", "GivenName": "c"}}`},
	{"an object and a dotted sub-attribute", `{"userName": "u", "name": {"givenName": "A"}, "name.familyName": "B", "name.middleName": "C"}`},
	{"an extension object and a URN-qualified attribute", `{"userName": "u",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "a", "manager": {"value": "m"}},
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "b",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value": "n",
			"department": "c"}`},
	{"schemas in two cases", `{"userName": "u", "schemas": ["urn:example:unknown"], "SCHEMAS": ["urn:ietf:params:scim:schemas:core:2.0:User"]}`},
	{"several invalid attributes", `{"userName": "u", "active": "maybe", "level": "x", "score": "y", "hiredAt": 1, "badge": "!", "nickName": 2}`},
	{"several invalid sub-attributes", `{"userName": "u", "name": {"givenName": 1, "familyName": 2, "middleName": 3}}`},
}

func TestDecodeIsDeterministic(t *testing.T) {
	rt := userType(t)
	for _, tt := range duplicateNameCases {
		t.Run(tt.name, func(t *testing.T) {
			first, firstErr := resource.Decode(rt, []byte(tt.body), resource.Options{})
			for range 200 {
				r, err := resource.Decode(rt, []byte(tt.body), resource.Options{})
				if (err == nil) != (firstErr == nil) || err != nil && err.Error() != firstErr.Error() {
					t.Fatalf("errors differ between runs: %v, then %v", firstErr, err)
				}
				if err == nil && !reflect.DeepEqual(r.Attrs, first.Attrs) {
					t.Fatalf("results differ between runs:\n%#v\n%#v", first.Attrs, r.Attrs)
				}
			}
		})
	}
}

// A dotted sub-attribute refines the object given for its attribute rather
// than being lost to it.
func TestDecodeMergesDottedSubAttributesIntoTheObject(t *testing.T) {
	rt := userType(t)
	r := mustDecode(t, rt, `{"userName": "u", "name.familyName": "Jensen", "name": {"givenName": "Barbara"}}`)
	want := map[string]any{"givenName": "Barbara", "familyName": "Jensen"}
	if got := r.Attrs["name"]; !reflect.DeepEqual(got, want) {
		t.Errorf("name = %#v, want %#v", got, want)
	}
}

func deep(open, close string, n int) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

// oddBodies are bodies of every shape, valid or not, that Decode must
// survive.
var oddBodies = map[string]string{
	"null":                                 `null`,
	"a string":                             `"x"`,
	"a number":                             `1`,
	"true":                                 `true`,
	"an empty array":                       `[]`,
	"an empty object":                      `{}`,
	"whitespace":                           " \n\t ",
	"a lone brace":                         `{`,
	"deeply nested arrays":                 deep("[", "]", 100000),
	"deeply nested objects":                deep(`{"a":`, "}", 100000),
	"deeply nested arrays in an attribute": `{"userName": "u", "emails": ` + deep("[", "]", 5000) + `}`,
	"deeply nested arrays in an unknown":   `{"userName": "u", "x": ` + deep("[", "]", 5000) + `}`,
	"deeply nested objects in a sub-attribute": `{"userName": "u", "name": {"givenName": ` + deep(`{"a":`, "}", 5000) + `}}`,
	"nested arrays in a string list":           `{"userName": "u", "tags": [[["x"]]]}`,
	"an extension holding an array":            `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": [1]}`,
	"the core URN as a key":                    `{"userName": "u", "urn:ietf:params:scim:schemas:core:2.0:User": {"displayName": "x"}}`,
	"a bare URN key":                           `{"userName": "u", "urn:": 1, "urn": 2}`,
	"invalid UTF-8":                            "{\"userName\": \"\xff\xfe\"}",
	"a NUL byte":                               "{\"userName\": \"u\x00\"}",
}

func TestDecodeNeverPanics(t *testing.T) {
	reg := newRegistry(t)
	for name, body := range oddBodies {
		for _, rtName := range []string{"User", "Group"} {
			for _, strict := range []bool{false, true} {
				_, err := resource.Decode(reg.ResourceType(rtName), []byte(body), resource.Options{Strict: strict})
				var serr *scim.Error
				if err != nil && (!errors.As(err, &serr) || serr.Status != 400) {
					t.Errorf("%s (%s, strict %v): got %v, want a 400 *scim.Error", name, rtName, strict, err)
				}
			}
		}
	}
}

func TestDecodeValueAndDecodeElement(t *testing.T) {
	emails := resolve(t, userType(t), "emails").Attr
	tests := []struct {
		name    string
		decode  func(*schema.Attribute, any, resource.Options) (any, error)
		in      any
		want    any
		wantErr bool
	}{
		{"DecodeValue wraps one element in a list", resource.DecodeValue, map[string]any{"value": "a"}, []any{map[string]any{"value": "a"}}, false},
		{"DecodeValue keeps a list", resource.DecodeValue, []any{map[string]any{"value": "a"}}, []any{map[string]any{"value": "a"}}, false},
		{"DecodeValue of nil is nil", resource.DecodeValue, nil, nil, false},
		{"DecodeElement returns one element", resource.DecodeElement, map[string]any{"value": "a"}, map[string]any{"value": "a"}, false},
		{"DecodeElement takes float64 numbers too", resource.DecodeElement, map[string]any{"value": "a", "primary": "true"}, map[string]any{"value": "a", "primary": true}, false},
		{"DecodeElement rejects a list", resource.DecodeElement, []any{map[string]any{"value": "a"}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.decode(emails, tt.in, resource.Options{})
			if tt.wantErr {
				wantBadRequest(t, err, scim.InvalidValue, "emails")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}

	// PATCH hands DecodeValue values decoded without UseNumber.
	level := resolve(t, userType(t), "level").Attr
	if got, err := resource.DecodeValue(level, float64(42), resource.Options{}); err != nil || got != int64(42) {
		t.Errorf("DecodeValue(level, float64(42)) = %#v, %v; want int64(42)", got, err)
	}
	score := resolve(t, userType(t), "score").Attr
	if got, err := resource.DecodeValue(score, int64(3), resource.Options{}); err != nil || got != float64(3) {
		t.Errorf("DecodeValue(score, int64(3)) = %#v, %v; want float64(3)", got, err)
	}
}

func TestDecodeResponseKeepsWhatTheServerSet(t *testing.T) {
	users := schema.NewRegistry().ResourceType("User")
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:example:theirs:2.0:User"],"id":"2819c223",
		"meta":{"resourceType":"User","created":"2010-01-23T04:56:22Z","version":"W/\"a330bc54f0671c9\""},
		"groups":[{"value":"e9e30dba","display":"Tour Guides","type":"direct"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"26118915","displayName":"John Smith"}}}`
	r, err := resource.Decode(users, []byte(body), resource.Options{Response: true})
	if err != nil {
		t.Fatalf("a projected response without userName, with another server's schema: %v", err)
	}
	if r.ID() != "2819c223" || r.Meta().Version != `W/"a330bc54f0671c9"` {
		t.Errorf("id %q, meta %+v: the server's readOnly values were dropped", r.ID(), r.Meta())
	}
	if g, _ := r.Attrs["groups"].([]any); len(g) != 1 {
		t.Errorf("groups = %v, want the one group", r.Attrs["groups"])
	}
	ext, _ := r.Attrs[schema.EnterpriseUserURN].(map[string]any)
	if m, _ := ext["manager"].(map[string]any); m["displayName"] != "John Smith" {
		t.Errorf("manager = %v, want its readOnly displayName kept", ext["manager"])
	}
	// The same body as a request: readOnly values dropped, userName required.
	if _, err := resource.Decode(users, []byte(body), resource.Options{}); err == nil {
		t.Error("the same body as a request was accepted")
	}
}
