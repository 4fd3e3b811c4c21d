package bulk_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/rosterhq/roster/scim/bulk"
)

// known is what the operations before the one resolved created.
var known = map[string]string{"ada": "2819c223", "eng": "e9e30dba", "a/b": "x"}

func lookup(bulkID string) (string, bool) {
	id, ok := known[bulkID]
	return id, ok
}

// decode decodes JSON as a server or client does, numbers kept exact.
func decode(tb testing.TB, s string) any {
	tb.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		tb.Fatalf("decode %s: %v", s, err)
	}
	return v
}

var resolveCases = []struct {
	name    string
	in      string
	want    string // JSON; "" when Resolve fails
	refs    []string
	unknown string // the bulkId of the *UnknownError
}{
	{"a reference as a whole string value is replaced", `{"value":"bulkId:ada"}`, `{"value":"2819c223"}`, []string{"ada"}, ""},
	{"a top-level string is a value too", `"bulkId:eng"`, `"e9e30dba"`, []string{"eng"}, ""},
	{"a key that looks like a reference stays",
		`{"bulkId:ada":"bulkId:eng","bulkId:nope":1}`, `{"bulkId:ada":"e9e30dba","bulkId:nope":1}`, []string{"eng"}, ""},
	{"references in nested arrays and objects are replaced",
		`{"members":[{"value":"bulkId:ada"},[["bulkId:eng",["bulkId:ada"]]]],"x":{"y":{"z":"bulkId:eng"}}}`,
		`{"members":[{"value":"2819c223"},[["e9e30dba",["2819c223"]]]],"x":{"y":{"z":"e9e30dba"}}}`,
		[]string{"ada", "eng", "ada", "eng"}, ""},
	{"a string that only contains a reference stays",
		`{"a":"see bulkId:ada","b":" bulkId:ada"}`, `{"a":"see bulkId:ada","b":" bulkId:ada"}`, nil, ""},
	{"what follows the prefix is the bulkId, spaces and all", `["bulkId:ada "]`, "", []string{"ada "}, "ada "},
	{"the prefix is compared as written",
		`["BULKID:ada","bulkid:ada","bulkId :ada"]`, `["BULKID:ada","bulkid:ada","bulkId :ada"]`, nil, ""},
	{"other values stay as they were",
		`{"n":12345678901234567890,"f":1.50,"t":true,"z":null,"e":[],"o":{}}`,
		`{"n":12345678901234567890,"f":1.50,"t":true,"z":null,"e":[],"o":{}}`, nil, ""},
	{"a bulkId may hold a slash", `["bulkId:a/b"]`, `["x"]`, []string{"a/b"}, ""},
	{"an unknown reference fails", `{"members":[{"value":"bulkId:ada"},{"value":"bulkId:nope"}]}`, "", []string{"ada", "nope"}, "nope"},
	{"an empty bulkId is unknown", `{"value":"bulkId:"}`, "", []string{""}, ""},
	{"the first unknown reference in key order is named",
		`{"b":"bulkId:second","a":["bulkId:first"]}`, "", []string{"first", "second"}, "first"},
}

func TestResolve(t *testing.T) {
	for _, tt := range resolveCases {
		t.Run(tt.name, func(t *testing.T) {
			v := decode(t, tt.in)
			before, _ := json.Marshal(v)
			got, err := bulk.Resolve(v, lookup)
			if after, _ := json.Marshal(v); !bytes.Equal(before, after) {
				t.Errorf("Resolve changed its argument: %s, was %s", after, before)
			}
			if refs := bulk.Refs(v); !slices.Equal(refs, tt.refs) {
				t.Errorf("Refs = %q, want %q", refs, tt.refs)
			}
			if tt.want == "" {
				var u *bulk.UnknownError
				if !errors.As(err, &u) || u.BulkID != tt.unknown {
					t.Fatalf("Resolve = %v, %v; want an *UnknownError for %q", got, err, tt.unknown)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := decode(t, tt.want); !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				t.Errorf("Resolve = %s, want %s", g, tt.want)
			}
		})
	}
}

func TestResolvePath(t *testing.T) {
	for _, tt := range []struct {
		path, want string
		refs       []string
		unknown    string
	}{
		{"/Groups/bulkId:eng", "/Groups/e9e30dba", []string{"eng"}, ""},
		{"/Users", "/Users", nil, ""},
		{"/Users/2819c223", "/Users/2819c223", nil, ""},
		{"bulkId:ada", "2819c223", []string{"ada"}, ""},
		{"/Users/xbulkId:ada", "/Users/xbulkId:ada", nil, ""},
		{"/Groups/bulkId:nope", "", []string{"nope"}, "nope"},
		{"/Groups/bulkId:", "", []string{""}, ""},
	} {
		got, err := bulk.ResolvePath(tt.path, lookup)
		if refs := bulk.PathRefs(tt.path); !slices.Equal(refs, tt.refs) {
			t.Errorf("PathRefs(%q) = %q, want %q", tt.path, refs, tt.refs)
		}
		if tt.want == "" {
			var u *bulk.UnknownError
			if !errors.As(err, &u) || u.BulkID != tt.unknown {
				t.Errorf("ResolvePath(%q) = %q, %v; want an *UnknownError for %q", tt.path, got, err, tt.unknown)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ResolvePath(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
}

// TestResolveLeavingReferencesToOthers: a client that knows some ids
// resolves those and leaves the rest, for the server.
func TestResolveLeavingReferencesToOthers(t *testing.T) {
	v := decode(t, `{"members":[{"value":"bulkId:ada"},{"value":"bulkId:later"}]}`)
	got, err := bulk.Resolve(v, func(bulkID string) (string, bool) {
		if id, ok := known[bulkID]; ok {
			return id, true
		}
		return bulk.Prefix + bulkID, true
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(got); string(b) != `{"members":[{"value":"2819c223"},{"value":"bulkId:later"}]}` {
		t.Fatalf("got %s", b)
	}
}
