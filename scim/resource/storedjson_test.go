package resource_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

// storedProjections are the attributes and excludedAttributes lists the
// stored encoder is held to, each for Users and Groups alike: names a
// type does not have are ignored.
var storedProjections = []struct{ attributes, excluded string }{
	{},
	{"", "members"},
	{"", "groups,emails"},
	{"userName,displayName", ""},
	{"name.givenName", ""},
	{"", "name.familyName"},
	{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", ""},
	{"", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"},
	{"", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
	{"password,externalId", ""},
	{"emails.value", ""},
}

// storedOf returns s as a store gives it back.
func storedOf(rt *schema.ResourceType, body []byte) *resource.Stored {
	t := time.Date(2026, 12, 7, 16, 0, 0, 123456789, time.UTC)
	return &resource.Stored{Type: rt, ID: "2819c223-7f76-453a-919d-413861904646", Attrs: body,
		Meta: resource.Meta{Created: t, LastModified: t.Add(time.Second), Version: `W/"3"`}}
}

// checkStoredJSON holds (*Stored).AppendJSON to decoding and encoding:
// where it answers, the same bytes.
func checkStoredJSON(t *testing.T, rt *schema.ResourceType, body []byte, computed map[string]any) (fast int) {
	t.Helper()
	s := storedOf(rt, body)
	s.Computed = computed
	const location = "https://example.com/scim/v2/Users/2819c223"
	for _, pp := range storedProjections {
		var attrs, excluded []string
		if pp.attributes != "" {
			attrs = []string{pp.attributes}
		}
		if pp.excluded != "" {
			excluded = []string{pp.excluded}
		}
		p, err := resource.NewProjection(rt, attrs, excluded)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := s.AppendJSON([]byte("prefix"), p, location)
		if !bytes.HasPrefix(got, []byte("prefix")) {
			t.Fatalf("AppendJSON(%q) lost what dst held: %q", body, got)
		}
		if !ok {
			if string(got) != "prefix" {
				t.Fatalf("AppendJSON(%q) failed but appended %q", body, got[6:])
			}
			continue
		}
		fast++
		r, err := s.Decode()
		if err != nil {
			t.Fatalf("AppendJSON(%q) answered where Decode fails: %v", body, err)
		}
		r.SetLocation(location)
		want := r.AppendJSON([]byte("prefix"), p)
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON(%q) with %+v:\n got %s\nwant %s", body, pp, got, want)
		}
		if !json.Valid(got[6:]) {
			t.Fatalf("AppendJSON(%q): not JSON: %s", body, got[6:])
		}
	}
	return fast
}

// FuzzStoredJSON holds the stored encoder to decoding and encoding, for
// any body and for what a store keeps of any body Decode accepts.
func FuzzStoredJSON(f *testing.F) {
	for _, tt := range rfcExamples {
		f.Add(readTestdata(f, tt.file), tt.resourceType == "Group")
	}
	for _, body := range []string{
		`{"userName":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\ud800x\udc00","active":true,"name":{"givenName":"A"}}`,
		`{"userName":"ada","emails":[{"value":"a@b.c","primary":true},{"value":"x@y.z","type":"home"}],"active":false}`,
		`{"userName":"ada","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7","manager":{"value":"m"}}}`,
		`{"userName":"<ada & bob>","displayName":"a\u2028b","title":"–"}`,
		`{"userName":"ada","password":"$2a$hash","externalId":"e1"}`,
		`{"userName":"ada","x509Certificates":[{"value":"TUlJ"}]}`,
		`{"userName":"ada","USERNAME":"bob"}`,
		`{"userName":"ada","userName":"bob"}`,
		`{"userName":"ada","emails":[]}`,
		`{"userName":"ada","name":{}}`,
		`{"userName":null}`,
		`{"userName":"ada","groups":[{"value":"g"}]}`,
		` { "userName" : "ada" , "active" : true , "name" : { "givenName" : "A" } } `,
		`{"userName":"ada","active":"true"}`,
		`{"displayName":"G","externalId":"e"}`,
		`{"displayName":"G","members":[{"value":"u1","display":"Ann"},{"value":"g2","type":"Group"}]}`,
		`{"userName":"ada","groups":[{"value":"g1","display":"Admins","type":"direct"}],"title":"x"}`,
	} {
		f.Add([]byte(body), false)
		f.Add([]byte(body), true)
	}
	reg := newRegistry(f)
	user, group := reg.ResourceType("User"), reg.ResourceType("Group")
	f.Fuzz(func(t *testing.T, body []byte, isGroup bool) {
		rt := user
		if isGroup {
			rt = group
		}
		checkStoredJSON(t, rt, body, nil)
		checkPickedProjection(t, rt, body)
		if r, err := resource.Decode(rt, body, resource.Options{}); err == nil {
			// A store computes these, and keeps none.
			computed := map[string]any{}
			for _, name := range []string{"groups", "members"} {
				if v, ok := r.Attrs[name]; ok {
					computed[name] = v
					delete(r.Attrs, name)
				}
			}
			checkStoredJSON(t, rt, storedBody(t, r), computed)
		}
	})
}

// projectionNames are the names checkPickedProjection builds projections
// of: plain, sub-attribute, URN-qualified, whole-extension, never and
// request ones, in odd cases.
var projectionNames = []string{
	"userName", "name", "name.givenName", "name.familyName", "emails", "emails.value", "emails.type", "emails.primary", "emails.display",
	"groups", "groups.value", "groups.$ref", "members", "members.value", "members.display", "members.type", "members.$ref",
	"password", "externalId", "id", "meta", "meta.location", "meta.version", "meta.created", "displayName", "active", "x509Certificates", "x509Certificates.value",
	enterpriseURN, enterpriseURN + ":manager", enterpriseURN + ":manager.value", enterpriseURN + ":manager.$ref", enterpriseURN + ":department", enterpriseURN + ":employeeNumber",
	rosterURN, rosterURN + ":clearance", rosterURN + ":level", rosterURN + ":tags", rosterURN + ":score",
	"urn:ietf:params:scim:schemas:core:2.0:User:userName", "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
	"urn:ietf:params:scim:schemas:core:2.0:Group:members", "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
	"USERNAME", "Emails", "addresses", "addresses.formatted", "phoneNumbers", "roles", "title", "nickName", "entitlements",
}

// checkPickedProjection checks body (and what a store keeps of it) under
// a projection whose names the body's bytes pick from projectionNames:
// the fuzzer then varies the projection with the body.
func checkPickedProjection(t *testing.T, rt *schema.ResourceType, body []byte) {
	t.Helper()
	var attrs, excluded []string
	for i, b := range body[:min(len(body), 4)] {
		name := projectionNames[int(b)%len(projectionNames)]
		if i%2 == 0 {
			attrs = append(attrs, name)
		} else {
			excluded = append(excluded, name)
		}
	}
	p, err := resource.NewProjection(rt, attrs, excluded)
	if err != nil {
		t.Fatal(err)
	}
	bodies := [][]byte{body}
	if r, err := resource.Decode(rt, body, resource.Options{}); err == nil {
		delete(r.Attrs, "groups")
		delete(r.Attrs, "members")
		bodies = append(bodies, storedBody(t, r))
	}
	for _, body := range bodies {
		s := storedOf(rt, body)
		got, ok := s.AppendJSON(nil, p, "https://example.com/x")
		if !ok {
			continue
		}
		r, err := s.Decode()
		if err != nil {
			t.Fatalf("AppendJSON(%q) answered where Decode fails: %v", body, err)
		}
		r.SetLocation("https://example.com/x")
		if want := r.AppendJSON(nil, p); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON(%q) attributes=%q excludedAttributes=%q:\n got %s\nwant %s", body, attrs, excluded, got, want)
		}
	}
}

// customType registers a resource type Thing of the core attributes (JSON
// attribute definitions) and one extension of each of exts.
func customType(t *testing.T, coreAttrs string, exts ...string) *schema.ResourceType {
	t.Helper()
	reg := schema.NewRegistry()
	core, err := schema.Parse([]byte(`{"id":"urn:example:core:Thing","name":"Thing","attributes":[` + coreAttrs + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	rt := &schema.ResourceType{Name: "Thing", Endpoint: "/Things", Schema: core}
	for i, e := range exts {
		s, err := schema.Parse(fmt.Appendf(nil, `{"id":"urn:example:ext:%d","name":"E%d","attributes":[%s]}`, i, i, e))
		if err != nil {
			t.Fatal(err)
		}
		rt.Extensions = append(rt.Extensions, schema.Extension{Schema: s})
	}
	if err := reg.AddResourceType(rt); err != nil {
		t.Fatal(err)
	}
	return reg.ResourceType("Thing")
}

// TestStoredJSONOfOtherTypes holds the stored encoder to decoding and
// encoding for resource types a deployment may register: a core schema
// that names a common attribute again (which AppendJSON writes twice),
// more attributes, extensions and sub-attributes than it keeps on its
// stack, and returned request and never sub-attributes.
func TestStoredJSONOfOtherTypes(t *testing.T) {
	for _, name := range []string{"externalId", "id", "meta", "schemas"} {
		rt := customType(t, `{"name":"`+name+`","type":"string"},{"name":"title"}`)
		for _, body := range []string{`{"title":"x"}`, `{"title":"x","externalId":"e"}`, `{"title":"x","` + name + `":"e"}`} {
			checkStoredJSON(t, rt, []byte(body), nil)
		}
	}
	var core, subs, extAttrs []string
	for i := range 60 {
		core = append(core, fmt.Sprintf(`{"name":"a%d","type":"integer"}`, i))
	}
	for i := range 20 {
		subs = append(subs, fmt.Sprintf(`{"name":"s%d"}`, i))
		extAttrs = append(extAttrs, fmt.Sprintf(`{"name":"e%d","type":"boolean"}`, i))
	}
	core = append(core, `{"name":"c","type":"complex","multiValued":true,"subAttributes":[`+strings.Join(subs, ",")+`]}`,
		`{"name":"mv","type":"complex","multiValued":true,"subAttributes":[{"name":"v"},{"name":"tags","multiValued":true},{"name":"r","returned":"request"},{"name":"n","returned":"never"},{"name":"al","returned":"always"}]}`)
	exts := []string{strings.Join(extAttrs, ",")}
	for range 9 {
		exts = append(exts, `{"name":"x","type":"decimal"},{"name":"y","returned":"request"},{"name":"z","returned":"never"}`)
	}
	var b strings.Builder
	b.WriteString(`{`)
	for i := range 60 {
		fmt.Fprintf(&b, `"a%d":%d,`, i, i)
	}
	b.WriteString(`"mv":[{"v":"1","tags":["a","b"],"r":"rr","n":"nn","al":"aa"},{"v":"2"}],"urn:example:ext:1":{"x":1.5,"y":"why","z":"zed"}}`)
	for _, rt := range []*schema.ResourceType{customType(t, strings.Join(core, ","), exts...), customType(t, strings.Join(core, ","), exts[:4]...)} {
		checkStoredJSON(t, rt, []byte(b.String()), nil)
	}
	rt := customType(t, `{"name":"mv","type":"complex","multiValued":true,"subAttributes":[{"name":"v"},{"name":"tags","multiValued":true},{"name":"al","returned":"always"}]}`, exts[1:5]...)
	if checkStoredJSON(t, rt, []byte(`{"mv":[{"v":"1","tags":["a","b"],"al":"aa"},{"al":"2"}],"urn:example:ext:0":{"x":1e300,"y":"why"},"urn:example:ext:3":{"y":"q"}}`), nil) == 0 {
		t.Error("a custom type within the encoder's bounds was not answered")
	}
}

// TestStoredJSONWithoutLocation holds the stored encoder to SetLocation(""),
// which shows an empty meta.location.
func TestStoredJSONWithoutLocation(t *testing.T) {
	s := storedOf(userType(t), []byte(`{"userName":"a"}`))
	got, ok := s.AppendJSON(nil, nil, "")
	r, err := s.Decode()
	if err != nil {
		t.Fatal(err)
	}
	r.SetLocation("")
	if want := r.AppendJSON(nil, nil); !ok || !bytes.Equal(got, want) {
		t.Fatalf("AppendJSON without a location: %v\n got %s\nwant %s", ok, got, want)
	}
}

// TestStoredJSONAnswersStoredUsers holds that the stored encoder answers
// for what a store keeps of the RFC's users and groups, under the default
// projection and most others; that only sub-attribute projections send
// it back to decoding.
func TestStoredJSONAnswersStoredUsers(t *testing.T) {
	reg := newRegistry(t)
	for _, tt := range rfcExamples {
		rt := reg.ResourceType(tt.resourceType)
		r, err := resource.Decode(rt, readTestdata(t, tt.file), resource.Options{})
		if err != nil {
			t.Fatal(err)
		}
		delete(r.Attrs, "x509Certificates") // binary: Decode checks its form
		delete(r.Attrs, "groups")
		delete(r.Attrs, "members")
		body := storedBody(t, r)
		s := storedOf(rt, body)
		if _, ok := s.AppendJSON(nil, nil, "https://example.com/x"); !ok {
			t.Errorf("%s: the default projection was not answered", tt.file)
		}
		if fast := checkStoredJSON(t, rt, body, nil); fast < len(storedProjections)-3 {
			t.Errorf("%s: answered %d of %d projections", tt.file, fast, len(storedProjections))
		}
	}
}

func BenchmarkStoredJSON(b *testing.B) {
	rt, r := enterpriseUser(b)
	delete(r.Attrs, "groups")
	s := storedOf(rt, storedBody(b, r))
	buf := make([]byte, 0, 4096)
	small := storedOf(rt, []byte(`{"active":true,"emails":[{"primary":true,"type":"work","value":"user17@example.com"},{"type":"home","value":"u17@home.example"}],"externalId":"ext-17","name":{"familyName":"Tester","givenName":"User"},"userName":"user17@example.com"}`))
	const location = "https://example.com/scim/v2/Users/x"
	for _, c := range []struct {
		name string
		s    *resource.Stored
	}{{"small ", small}, {"", s}} {
		b.Run(c.name+"stored", func(b *testing.B) {
			for b.Loop() {
				if _, ok := c.s.AppendJSON(buf[:0], nil, location); !ok {
					b.Fatal("not answered")
				}
			}
		})
		b.Run(c.name+"decode and encode", func(b *testing.B) {
			for b.Loop() {
				r, _ := c.s.Decode()
				r.SetLocation(location)
				r.AppendJSON(buf[:0], nil)
			}
		})
	}
}
