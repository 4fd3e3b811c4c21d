package resource_test

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

// topLevelKeys returns the keys of the JSON object in out, in order.
func topLevelKeys(t *testing.T, out []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(out))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("output does not start with an object: %s", out)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("reading %s: %v", out, err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("reading %s: %v", out, err)
		}
	}
	return keys
}

func TestAppendJSONWritesAttributesInSchemaOrder(t *testing.T) {
	rt := userType(t)
	// Keys deliberately out of order, with the extensions first and meta
	// in the middle.
	r := mustDecode(t, rt, `{
		"urn:ietf:params:scim:schemas:extension:roster:2.0:User": {"level": 3},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"},
		"x509Certificates": [{"value": "aGk="}],
		"active": true,
		"emails": [{"value": "a@x.com"}],
		"name": {"givenName": "B", "familyName": "J"},
		"userName": "u",
		"externalId": "e-1"
	}`)
	r.SetMeta(resource.Meta{Created: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), Version: `W/"1"`})
	r.SetID("u-1")
	out := r.AppendJSON(nil, nil)
	if !json.Valid(out) {
		t.Fatalf("invalid JSON: %s", out)
	}
	want := []string{"schemas", "id", "externalId", "userName", "name", "active", "emails", "x509Certificates", enterpriseURN, rosterURN, "meta"}
	if got := topLevelKeys(t, out); !slices.Equal(got, want) {
		t.Errorf("keys in order %q,\nwant %q", got, want)
	}
	// Sub-attributes follow their schema order too.
	name := string(out[bytes.Index(out, []byte(`"name":`)):])
	if want := `"name":{"familyName":"J","givenName":"B"}`; name[:len(want)] != want {
		t.Errorf("name written as %.60s, want %s", name, want)
	}
	meta := encoded(t, r, nil)["meta"]
	if want := map[string]any{"resourceType": "User", "created": "2024-01-02T03:04:05Z", "version": `W/"1"`}; !reflect.DeepEqual(meta, want) {
		t.Errorf("meta = %#v, want %#v", meta, want)
	}
}

func TestMarshalJSONIsAppendJSONWithTheDefaultProjection(t *testing.T) {
	r := mustDecode(t, userType(t), `{"userName": "u", "password": "pw", "clearance": "top"}`)
	got, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := r.AppendJSON(nil, nil); !bytes.Equal(got, want) {
		t.Errorf("json.Marshal = %s\nAppendJSON = %s", got, want)
	}
	if want := `{"schemas":["` + userURN + `"],"userName":"u"}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestAppendJSONAppendsToDst(t *testing.T) {
	r := mustDecode(t, userType(t), `{"userName": "u"}`)
	got := r.AppendJSON([]byte("prefix:"), nil)
	if want := `prefix:{"schemas":["` + userURN + `"],"userName":"u"}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestAppendJSONEscapesStrings(t *testing.T) {
	tests := []struct {
		name string
		s    string
	}{
		{"quotes", `say "hi"`},
		{"backslashes", `C:\dir\file \\server`},
		{"newline, tab and carriage return", "a\nb\tc\rd"},
		{"every other control character", "\x00\x01\x02\x07\x08\x0b\x0c\x0e\x1b\x1f"},
		{"DEL", "a\x7fb"},
		{"an invalid UTF-8 byte", "bad \xff byte"},
		{"a truncated UTF-8 sequence", "cut \xe2\x82"},
		{"invalid UTF-8 at the end", "end\xc3"},
		{"a surrogate half encoded in UTF-8", "sur \xed\xa0\x80 rogate"},
		{"U+2028 and U+2029", "line\u2028para\u2029end"},
		{"HTML characters left as they are", "<b>R&D</b>"},
		{"multi-byte runes", "Zoë 日本 😀"},
		{"U+FFFD itself", "\uFFFD"},
		{"the empty string", ""},
	}
	rt := userType(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustDecode(t, rt, `{"userName": "u"}`)
			r.Attrs["displayName"] = tt.s
			r.Attrs["emails"] = []any{map[string]any{"value": tt.s}}
			r.Attrs[enterpriseURN] = map[string]any{"department": tt.s}
			out := r.AppendJSON(nil, nil)
			if !json.Valid(out) {
				t.Fatalf("invalid JSON: %q", out)
			}
			// What encoding/json makes of the same string.
			b, _ := json.Marshal(tt.s)
			var want string
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			m := encoded(t, r, nil)
			if got := m["displayName"]; got != want {
				t.Errorf("displayName decodes to %q, want %q", got, want)
			}
			if got := m["emails"].([]any)[0].(map[string]any)["value"]; got != want {
				t.Errorf("emails.value decodes to %q, want %q", got, want)
			}
			if got := m[enterpriseURN].(map[string]any)["department"]; got != want {
				t.Errorf("department decodes to %q, want %q", got, want)
			}
			for _, c := range out {
				if c < 0x20 {
					t.Errorf("raw control character %#x in output %q", c, out)
				}
			}
			if bytes.Contains(out, []byte("\u2028")) || bytes.Contains(out, []byte("\u2029")) {
				t.Errorf("raw U+2028/U+2029 in output %q", out)
			}
		})
	}
}

func TestAppendJSONEscapesNamesOutsideTheSchema(t *testing.T) {
	// Values outside the schema are only reachable by setting Attrs
	// directly; they must still come out as valid JSON.
	r := mustDecode(t, userType(t), `{"userName": "u"}`)
	r.Attrs["displayName"] = []any{"a\"b", int64(1), 2.5, true, map[string]any{"k\n": nil}, nil, struct{}{}}
	out := r.AppendJSON(nil, nil)
	if !json.Valid(out) {
		t.Fatalf("invalid JSON: %q", out)
	}
	want := []any{"a\"b", 1.0, 2.5, true, map[string]any{"k\n": nil}, nil, nil}
	if got := encoded(t, r, nil)["displayName"]; !reflect.DeepEqual(got, want) {
		t.Errorf("displayName = %#v, want %#v", got, want)
	}
}

func TestAppendJSONFormatsNumbersLikeEncodingJSON(t *testing.T) {
	floats := []float64{
		0, math.Copysign(0, -1), 1, -1, 3.5, 0.1, 100, 1e6, 123456789.125,
		0.000001, 0.0000001, 1e-7, 1.5e-9, -2.5e-10, 1e-100, 5e-324,
		1e20, 1e21, 1.2345e21, -1e21, 1e100, math.MaxFloat64, math.SmallestNonzeroFloat64,
		float64(1 << 53), 12345678901234567890,
	}
	rt := userType(t)
	for _, f := range floats {
		r := mustDecode(t, rt, `{"userName": "u"}`)
		r.Attrs[rosterURN] = map[string]any{"score": f}
		var got struct {
			Ext struct {
				Score json.RawMessage `json:"score"`
			} `json:"urn:ietf:params:scim:schemas:extension:roster:2.0:User"`
		}
		if err := json.Unmarshal(r.AppendJSON(nil, nil), &got); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(f)
		if string(got.Ext.Score) != string(want) {
			t.Errorf("score %v written as %s, encoding/json writes %s", f, got.Ext.Score, want)
		}
	}

	for _, n := range []int64{0, -1, 42, math.MaxInt64, math.MinInt64} {
		r := mustDecode(t, rt, `{"userName": "u"}`)
		r.Attrs[rosterURN] = map[string]any{"level": n}
		want, _ := json.Marshal(map[string]int64{"level": n})
		if out := r.AppendJSON(nil, nil); !bytes.Contains(out, want[1:len(want)-1]) {
			t.Errorf("level %d written as %s", n, out)
		}
	}

	// Not representable in JSON: written as null rather than invalid JSON.
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		r := mustDecode(t, rt, `{"userName": "u"}`)
		r.Attrs[rosterURN] = map[string]any{"score": f}
		if out := r.AppendJSON(nil, nil); !json.Valid(out) {
			t.Errorf("score %v gives invalid JSON %s", f, out)
		}
	}
}

func TestAppendJSONListsExtensionSchemasOnlyWhenOutput(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		attributes []string
		excluded   []string
		want       []any
	}{
		{name: "no extension attributes", body: `{"userName": "u"}`, want: []any{userURN}},
		{name: "an enterprise attribute", body: `{"userName": "u", "department": "R&D"}`, want: []any{userURN, enterpriseURN}},
		{name: "both extensions", body: `{"userName": "u", "department": "R&D", "level": 1}`, want: []any{userURN, enterpriseURN, rosterURN}},
		{name: "the enterprise extension excluded", body: `{"userName": "u", "department": "R&D"}`, excluded: []string{enterpriseURN}, want: []any{userURN}},
		{name: "the only enterprise attribute excluded", body: `{"userName": "u", "department": "R&D"}`, excluded: []string{"department"}, want: []any{userURN}},
		{name: "core attributes asked for", body: `{"userName": "u", "department": "R&D"}`, attributes: []string{"userName"}, want: []any{userURN}},
		{name: "an enterprise attribute asked for", body: `{"userName": "u", "department": "R&D"}`, attributes: []string{"department"}, want: []any{userURN, enterpriseURN}},
		{name: "an attribute returned on request only, not asked for", body: `{"userName": "u", "clearance": "top"}`, want: []any{userURN}},
		{name: "an attribute returned on request only, asked for", body: `{"userName": "u", "clearance": "top"}`, attributes: []string{"clearance"}, want: []any{userURN, rosterURN}},
		{name: "an enterprise sub-attribute without a value asked for",
			body: `{"userName": "u", "manager": "m-1"}`, attributes: []string{enterpriseURN + ":manager.$ref"}, want: []any{userURN}},
	}
	rt := userType(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustDecode(t, rt, tt.body)
			p, err := resource.NewProjection(rt, tt.attributes, tt.excluded)
			if err != nil {
				t.Fatal(err)
			}
			m := encoded(t, r, p)
			if got := m["schemas"]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("schemas = %v, want %v", got, tt.want)
			}
			for _, urn := range []string{enterpriseURN, rosterURN} {
				_, listed := m[urn]
				if want := slices.Contains(tt.want, any(urn)); listed != want {
					t.Errorf("%s written: %v, listed in schemas: %v", urn, listed, want)
				}
			}
		})
	}
}

func TestAppendJSONSkipsAnEmptyExtensionObject(t *testing.T) {
	r := mustDecode(t, userType(t), `{"userName": "u"}`)
	r.Attrs[enterpriseURN] = map[string]any{}
	if got, want := string(r.AppendJSON(nil, nil)), `{"schemas":["`+userURN+`"],"userName":"u"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got := r.Schemas(); !slices.Equal(got, []string{userURN}) {
		t.Errorf("Schemas() = %v", got)
	}
}

func TestSchemasListsExtensionsWithValues(t *testing.T) {
	r := mustDecode(t, userType(t), `{"userName": "u", "level": 1}`)
	if got, want := r.Schemas(), []string{userURN, rosterURN}; !slices.Equal(got, want) {
		t.Errorf("Schemas() = %v, want %v", got, want)
	}
}

func TestResourceAccessors(t *testing.T) {
	rt := userType(t)
	r := mustDecode(t, rt, `{"userName": "u", "externalId": "e-1", "emails": [{"value": "a@x.com"}, {"type": "home"}, {"value": "b@x.com"}], "manager": "m-1"}`)
	if r.ID() != "" {
		t.Errorf("ID() of a new resource = %q", r.ID())
	}
	r.SetID("u-1")
	if r.ID() != "u-1" || r.ExternalID() != "e-1" {
		t.Errorf("ID() = %q, ExternalID() = %q", r.ID(), r.ExternalID())
	}
	created := time.Date(2024, 1, 2, 3, 4, 5, 600, time.FixedZone("X", 3600))
	r.SetMeta(resource.Meta{Created: created, LastModified: created, Location: "https://x/Users/u-1", Version: "v1"})
	m := r.Meta()
	if m.ResourceType != "User" || !m.Created.Equal(created) || !m.LastModified.Equal(created) || m.Location != "https://x/Users/u-1" || m.Version != "v1" {
		t.Errorf("Meta() = %+v", m)
	}

	tests := []struct {
		path string
		want any
		ok   bool
	}{
		{"userName", "u", true},
		{"displayName", nil, false},
		{"emails.value", []any{"a@x.com", "b@x.com"}, true},
		{"emails.display", []any(nil), false},
		{"meta.version", "v1", true},
		{"meta.lastModified", "2024-01-02T02:04:05.0000006Z", true},
		{enterpriseURN + ":manager.value", "m-1", true},
		{enterpriseURN, map[string]any{"manager": map[string]any{"value": "m-1"}}, true},
		{rosterURN, map[string]any(nil), false},
		{"name.givenName", nil, false},
	}
	for _, tt := range tests {
		got, ok := r.Get(resolve(t, rt, tt.path))
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Get(%s) = %#v, %v; want %#v, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}

	c := r.Clone()
	c.Attrs["emails"].([]any)[0].(map[string]any)["value"] = "changed"
	c.Attrs[enterpriseURN].(map[string]any)["department"] = "changed"
	if got, _ := r.Get(resolve(t, rt, "emails.value")); !reflect.DeepEqual(got, []any{"a@x.com", "b@x.com"}) {
		t.Errorf("changing a clone changed the original: %v", got)
	}
	if _, ok := r.Attrs[enterpriseURN].(map[string]any)["department"]; ok {
		t.Error("changing a clone's extension changed the original")
	}
	if r.Container(schema.Ref{Extension: rosterURN}, false) != nil {
		t.Error("Container(create=false) created an extension object")
	}
	if r.Container(schema.Ref{Extension: rosterURN}, true) == nil || r.Attrs[rosterURN] == nil {
		t.Error("Container(create=true) did not create the extension object")
	}
}
