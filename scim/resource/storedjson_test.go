package resource_test

import (
	"bytes"
	"encoding/json"
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
	reg := newRegistry(b)
	rt := reg.ResourceType("User")
	r, err := resource.Decode(rt, readTestdata(b, "rfc7643-8.3-enterprise-user.json"), resource.Options{})
	if err != nil {
		b.Fatal(err)
	}
	delete(r.Attrs, "x509Certificates")
	delete(r.Attrs, "groups")
	s := storedOf(rt, storedBody(b, r))
	buf := make([]byte, 0, 4096)
	small := storedOf(rt, []byte(`{"active":true,"emails":[{"primary":true,"type":"work","value":"user17@example.com"},{"type":"home","value":"u17@home.example"}],"externalId":"ext-17","name":{"familyName":"Tester","givenName":"User"},"userName":"user17@example.com"}`))
	b.Run("small stored", func(b *testing.B) {
		for b.Loop() {
			if _, ok := small.AppendJSON(buf[:0], nil, "https://example.com/scim/v2/Users/x"); !ok {
				b.Fatal("not answered")
			}
		}
	})
	b.Run("small decode and encode", func(b *testing.B) {
		for b.Loop() {
			r, _ := small.Decode()
			r.SetLocation("https://example.com/scim/v2/Users/x")
			r.AppendJSON(buf[:0], nil)
		}
	})
	b.Run("stored", func(b *testing.B) {
		for b.Loop() {
			if _, ok := s.AppendJSON(buf[:0], nil, "https://example.com/scim/v2/Users/x"); !ok {
				b.Fatal("not answered")
			}
		}
	})
	b.Run("decode and encode", func(b *testing.B) {
		for b.Loop() {
			r, _ := s.Decode()
			r.SetLocation("https://example.com/scim/v2/Users/x")
			r.AppendJSON(buf[:0], nil)
		}
	})
}
