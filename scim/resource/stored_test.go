package resource_test

import (
	"encoding/json"
	"maps"
	"math"
	"reflect"
	"testing"

	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

// storedBody is what a store keeps of r: the JSON of its attributes but
// id and meta (as store/sqlstore writes it).
func storedBody(tb testing.TB, r *resource.Resource) []byte {
	attrs := maps.Clone(r.Attrs)
	delete(attrs, "id")
	delete(attrs, "meta")
	b, err := json.Marshal(attrs)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzDecodeStored holds DecodeStored to Decode in Response mode: for any
// body, the same attributes or an error from both. A body is tried as it
// is, and as a store would keep what Decode accepted of it (the fast
// path's case).
func FuzzDecodeStored(f *testing.F) {
	for _, tt := range rfcExamples {
		f.Add(readTestdata(f, tt.file), tt.resourceType == "Group")
	}
	for _, tt := range coercionCases {
		f.Add([]byte(tt.body), false)
	}
	for _, body := range oddBodies {
		if len(body) < 1000 {
			f.Add([]byte(body), false)
		}
	}
	for _, body := range []string{
		`{"userName":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\ud800x\udc00","active":true,"name":{"givenName":"A"}}`,
		`{"userName":"ada","emails":[{"value":"a@b.c","primary":true},{"value":"x@y.z","type":"home"}],"active":false}`,
		`{"userName":"ada","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7","manager":{"value":"m"}}}`,
		`{"userName":"ada","x509Certificates":[{"value":"TUlJ"}]}`,
		"{\"userName\":\"\xff\"}",
		`{"userName":"ada","USERNAME":"bob"}`,
		`{"userName":"ada","userName":"bob"}`,
		`{"userName":"ada"} {}`,
		`{"userName":"ada","emails":[]}`,
		`{"userName":null}`,
		` { "userName" : "ada" , "active" : true } `,
	} {
		f.Add([]byte(body), false)
	}
	f.Add([]byte(`{"displayName":"G","externalId":"e"}`), true)

	reg := newRegistry(f)
	user, group := reg.ResourceType("User"), reg.ResourceType("Group")
	f.Fuzz(func(t *testing.T, body []byte, isGroup bool) {
		rt := user
		if isGroup {
			rt = group
		}
		same := func(body []byte) {
			t.Helper()
			want, wantErr := resource.Decode(rt, body, resource.Options{Response: true})
			got, err := resource.DecodeStored(rt, body)
			if (err == nil) != (wantErr == nil) {
				t.Fatalf("DecodeStored(%q): %v, Decode: %v", body, err, wantErr)
			}
			if err == nil && !reflect.DeepEqual(got.Attrs, want.Attrs) {
				t.Fatalf("DecodeStored(%q):\n got %#v\nwant %#v", body, got.Attrs, want.Attrs)
			}
		}
		same(body)
		if r, err := resource.Decode(rt, body, resource.Options{}); err == nil {
			same(storedBody(t, r))
			// AppendStoredAttrs writes what encoding/json does, as JSON.
			attrs := maps.Clone(r.Attrs)
			delete(attrs, "id")
			delete(attrs, "meta")
			ours, ok := resource.AppendStoredAttrs([]byte("x"), attrs)
			if !ok || ours[0] != 'x' {
				t.Fatalf("AppendStoredAttrs(%#v) declined (%q)", attrs, ours)
			}
			same(ours[1:])
			var a, b any
			if err := json.Unmarshal(ours[1:], &a); err != nil {
				t.Fatalf("AppendStoredAttrs(%#v): not JSON: %v", attrs, err)
			}
			json.Unmarshal(storedBody(t, r), &b)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("AppendStoredAttrs:\n got %s\nwant %s", ours[1:], storedBody(t, r))
			}
		}
	})
}

// enterpriseUser returns the user type and RFC 7643 §8.3's enterprise
// user, decoded, without its x509Certificates (binary: Decode checks
// their form, so a stored copy would not take the fast paths).
func enterpriseUser(tb testing.TB) (*schema.ResourceType, *resource.Resource) {
	tb.Helper()
	rt := newRegistry(tb).ResourceType("User")
	r, err := resource.Decode(rt, readTestdata(tb, "rfc7643-8.3-enterprise-user.json"), resource.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	delete(r.Attrs, "x509Certificates")
	return rt, r
}

// TestDecodeStoredTakesTheFastPath holds that a stored user is read
// without Decode: had it fallen back, it would allocate all Decode does
// and more.
func TestDecodeStoredTakesTheFastPath(t *testing.T) {
	rt, r := enterpriseUser(t)
	body := storedBody(t, r)
	fast := testing.AllocsPerRun(20, func() { resource.DecodeStored(rt, body) })
	slow := testing.AllocsPerRun(20, func() { resource.Decode(rt, body, resource.Options{Response: true}) })
	if fast >= slow*3/4 {
		t.Fatalf("DecodeStored allocates %v times, Decode %v: the fast path was not taken", fast, slow)
	}
}

// TestAppendStoredAttrsDeclinesOtherValues: a value not in the package's
// form is not written (as null, or not at all): the caller asks
// encoding/json.
func TestAppendStoredAttrsDeclinesOtherValues(t *testing.T) {
	for _, v := range []any{1, int32(2), json.Number("3"), math.NaN(), math.Inf(1), struct{}{}, nil, []string{"a"}, map[string]string{"a": "b"}} {
		attrs := map[string]any{"userName": "ada", "x": []any{map[string]any{"v": v}}}
		if got, ok := resource.AppendStoredAttrs([]byte("keep"), attrs); ok || string(got) != "keep" {
			t.Errorf("AppendStoredAttrs with %T: %q, %v", v, got, ok)
		}
	}
	got, ok := resource.AppendStoredAttrs(nil, map[string]any{"b": int64(1), "a": []any{"<&>", 1.5, true}, "c": map[string]any{"z": "x", "y": 1e21}})
	if want := `{"a":["<&>",1.5,true],"b":1,"c":{"y":1e+21,"z":"x"}}`; !ok || string(got) != want {
		t.Errorf("AppendStoredAttrs: %s, %v; want %s", got, ok, want)
	}
}

func BenchmarkStoredAttrs(b *testing.B) {
	reg := newRegistry(b)
	r, err := resource.Decode(reg.ResourceType("User"), []byte(`{"userName":"user17@example.com","name":{"givenName":"User","familyName":"Tester"},"emails":[{"value":"user17@example.com","type":"work","primary":true},{"value":"u17@home.example","type":"home"}],"externalId":"ext-17","active":true}`), resource.Options{})
	if err != nil {
		b.Fatal(err)
	}
	delete(r.Attrs, "id")
	b.Run("AppendStoredAttrs", func(b *testing.B) {
		for b.Loop() {
			resource.AppendStoredAttrs(nil, r.Attrs)
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(r.Attrs)
		}
	})
}

func BenchmarkDecodeStored(b *testing.B) {
	rt, r := enterpriseUser(b)
	body := storedBody(b, r)
	b.Run("DecodeStored", func(b *testing.B) {
		for b.Loop() {
			resource.DecodeStored(rt, body)
		}
	})
	b.Run("Decode", func(b *testing.B) {
		for b.Loop() {
			resource.Decode(rt, body, resource.Options{Response: true})
		}
	})
}

// FuzzEqual holds Equal to reflect.DeepEqual on values in the package's
// form, decoded from two bodies.
func FuzzEqual(f *testing.F) {
	f.Add([]byte(`{"userName":"a","active":true,"emails":[{"value":"a@b"}]}`), []byte(`{"userName":"a","active":true,"emails":[{"value":"a@b"}]}`))
	f.Add([]byte(`{"userName":"a","emails":[{"value":"a@b"},{"value":"c@d"}]}`), []byte(`{"userName":"a","emails":[{"value":"c@d"},{"value":"a@b"}]}`))
	f.Add([]byte(`{"userName":"a","name":{"givenName":"A"}}`), []byte(`{"userName":"a","name":{"givenName":"A","familyName":"B"}}`))
	f.Add([]byte(`{"userName":"a","active":false}`), []byte(`{"userName":"a","active":"false"}`))
	reg := newRegistry(f)
	rt := reg.ResourceType("User")
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ra, err := resource.Decode(rt, a, resource.Options{})
		if err != nil {
			return
		}
		rb, err := resource.Decode(rt, b, resource.Options{})
		if err != nil {
			return
		}
		for k, v := range ra.Attrs {
			for _, w := range []any{rb.Attrs[k], v} {
				if got, want := resource.Equal(v, w), reflect.DeepEqual(v, w); got != want {
					t.Fatalf("Equal(%#v, %#v) = %v, reflect.DeepEqual %v", v, w, got, want)
				}
			}
		}
		if got, want := resource.Equal(map[string]any(ra.Attrs), map[string]any(rb.Attrs)), reflect.DeepEqual(ra.Attrs, rb.Attrs); got != want {
			t.Fatalf("Equal of the two resources = %v, reflect.DeepEqual %v", got, want)
		}
	})
}
