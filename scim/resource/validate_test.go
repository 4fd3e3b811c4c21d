package resource_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

// storedUser is the resource a PUT replaces: what Decode made of a POST,
// plus what the server assigned (id, meta, groups, manager.displayName).
func storedUser(t *testing.T, rt *schema.ResourceType) *resource.Resource {
	t.Helper()
	r := mustDecode(t, rt, `{
		"userName": "bjensen",
		"displayName": "Babs",
		"password": "old-secret",
		"name": {"givenName": "Barbara", "familyName": "Jensen"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tours", "manager": {"value": "m-1"}},
		"urn:ietf:params:scim:schemas:extension:roster:2.0:User": {"badgeNumber": "B-1", "level": 2}
	}`)
	r.SetID("u-1")
	r.SetMeta(resource.Meta{
		Created:      time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		LastModified: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC),
		Location:     "https://example.com/v2/Users/u-1",
		Version:      `W/"7"`,
	})
	r.Attrs["groups"] = []any{map[string]any{"value": "g-1", "display": "Tour Guides"}}
	r.Attrs[enterpriseURN].(map[string]any)["manager"].(map[string]any)["displayName"] = "John Smith"
	return r
}

func TestReplace(t *testing.T) {
	tests := []struct {
		name string
		put  string
		// want holds attributes the result must have (nil: must not);
		// paths as Resolve takes them.
		want map[string]any
	}{
		{name: "readOnly id, meta and groups are kept from the stored resource",
			put: `{"userName": "bjensen", "id": "evil", "meta": {"version": "W/\"1\""}, "groups": [{"value": "g-9"}]}`,
			want: map[string]any{
				"id":                "u-1",
				"meta.version":      `W/"7"`,
				"meta.created":      "2020-01-01T00:00:00Z",
				"meta.resourceType": "User",
				"groups":            []any{map[string]any{"value": "g-1", "display": "Tour Guides"}},
			}},
		{name: "the password is kept when the PUT omits it",
			put:  `{"userName": "bjensen"}`,
			want: map[string]any{"password": "old-secret"}},
		{name: "the password is replaced when the PUT has it",
			put:  `{"userName": "bjensen", "password": "new-secret"}`,
			want: map[string]any{"password": "new-secret"}},
		{name: "the password is kept when the PUT sends null",
			put:  `{"userName": "bjensen", "password": null}`,
			want: map[string]any{"password": "old-secret"}},
		{name: "readWrite attributes the PUT omits are removed",
			put:  `{"userName": "bjensen"}`,
			want: map[string]any{"displayName": nil, "name": nil, "department": nil, "level": nil}},
		{name: "readWrite attributes the PUT has are replaced",
			put:  `{"userName": "babs", "displayName": "B", "department": "Rides"}`,
			want: map[string]any{"userName": "babs", "displayName": "B", "department": "Rides"}},
		{name: "an immutable attribute the PUT omits is kept",
			put:  `{"userName": "bjensen"}`,
			want: map[string]any{"badgeNumber": "B-1"}},
		{name: "an immutable attribute with the same value is accepted",
			put:  `{"userName": "bjensen", "badgeNumber": "B-1", "level": 3}`,
			want: map[string]any{"badgeNumber": "B-1", "level": int64(3)}},
		{name: "a readOnly sub-attribute is kept when the PUT sends its attribute",
			put:  `{"userName": "bjensen", "manager": {"value": "m-2", "displayName": "Evil"}}`,
			want: map[string]any{"manager": map[string]any{"value": "m-2", "displayName": "John Smith"}}},
		{name: "a readOnly sub-attribute goes with its attribute when the PUT omits it",
			put:  `{"userName": "bjensen", "department": "Tours"}`,
			want: map[string]any{"manager": nil, "department": "Tours"}},
	}
	rt := userType(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := storedUser(t, rt)
			before := old.Clone()
			incoming := mustDecode(t, rt, tt.put)
			incomingBefore := incoming.Clone()
			out, err := resource.Replace(old, incoming)
			if err != nil {
				t.Fatalf("Replace: %v", err)
			}
			for path, want := range tt.want {
				got, ok := out.Get(resolve(t, rt, path))
				if want == nil {
					if ok {
						t.Errorf("%s = %#v, want it absent", path, got)
					}
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
			if !reflect.DeepEqual(old, before) || !reflect.DeepEqual(incoming, incomingBefore) {
				t.Error("Replace changed its arguments")
			}
			if err := out.Validate(); err != nil {
				t.Errorf("Validate the result: %v", err)
			}
			for k, v := range out.Attrs {
				if resource.Unassigned(v) {
					t.Errorf("%s holds the unassigned %#v", k, v)
				}
			}
		})
	}
}

func TestReplaceRejectsChangingAnImmutableAttribute(t *testing.T) {
	tests := []struct {
		name string
		put  string
	}{
		{"a different value", `{"userName": "bjensen", "badgeNumber": "B-2"}`},
		{"a different case of a caseExact value", `{"userName": "bjensen", "badgeNumber": "b-1"}`},
		{"a different value in the extension object", `{"userName": "bjensen", "urn:ietf:params:scim:schemas:extension:roster:2.0:User": {"badgeNumber": "B-2"}}`},
	}
	rt := userType(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := resource.Replace(storedUser(t, rt), mustDecode(t, rt, tt.put))
			if out != nil {
				t.Error("got a result with the error")
			}
			wantBadRequest(t, err, scim.Mutability, rosterURN+":badgeNumber", "immutable")
		})
	}
}

func TestReplaceSetsAnImmutableAttributeTheStoredResourceLacks(t *testing.T) {
	rt := userType(t)
	old := mustDecode(t, rt, `{"userName": "bjensen"}`)
	out, err := resource.Replace(old, mustDecode(t, rt, `{"userName": "bjensen", "badgeNumber": "B-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := out.Get(resolve(t, rt, "badgeNumber")); got != "B-1" {
		t.Errorf("badgeNumber = %v, want B-1", got)
	}
}

func TestReplaceOnAGroupKeepsIDAndReplacesMembers(t *testing.T) {
	rt := groupType(t)
	old := mustDecode(t, rt, `{"displayName": "G", "members": [{"value": "u-1"}, {"value": "u-2"}]}`)
	old.SetID("g-1")
	out, err := resource.Replace(old, mustDecode(t, rt, `{"displayName": "G2", "members": [{"value": "u-3"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": "g-1", "displayName": "G2", "members": []any{map[string]any{"value": "u-3"}}}
	if !reflect.DeepEqual(out.Attrs, want) {
		t.Errorf("Attrs = %#v, want %#v", out.Attrs, want)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		attrs   map[string]any
		require bool // make the roster extension required
		detail  string
	}{
		{name: "a resource with its required attributes is valid", attrs: map[string]any{"userName": "u"}},
		{name: "id and meta are not required", attrs: map[string]any{"userName": "u", "emails": []any{map[string]any{"value": "a", "primary": true}}}},
		{name: "a missing required attribute", attrs: map[string]any{}, detail: "userName"},
		{name: "two primary values", detail: "emails has 2 values marked primary",
			attrs: map[string]any{"userName": "u", "emails": []any{map[string]any{"value": "a", "primary": true}, map[string]any{"value": "b", "primary": true}}}},
		{name: "two primary addresses", detail: "addresses",
			attrs: map[string]any{"userName": "u", "addresses": []any{map[string]any{"primary": true}, map[string]any{"primary": true}}}},
		{name: "a missing required extension", require: true, attrs: map[string]any{"userName": "u"}, detail: rosterURN},
		{name: "a present required extension", require: true, attrs: map[string]any{"userName": "u", rosterURN: map[string]any{"level": int64(1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := schema.NewRegistry()
			s, err := schema.Parse([]byte(rosterSchema))
			if err != nil {
				t.Fatal(err)
			}
			if err := reg.AddExtension("User", s, tt.require); err != nil {
				t.Fatal(err)
			}
			r := &resource.Resource{Type: reg.ResourceType("User"), Attrs: tt.attrs}
			err = r.Validate()
			if tt.detail == "" {
				if err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			wantBadRequest(t, err, scim.InvalidValue, tt.detail)
		})
	}
}

func TestValidateChecksRequiredSubAttributes(t *testing.T) {
	reg := schema.NewRegistry()
	s, err := schema.Parse([]byte(`{"id": "urn:example:badges", "attributes": [
		{"name": "badges", "type": "complex", "multiValued": true, "subAttributes": [
			{"name": "value", "type": "string", "required": true},
			{"name": "issuer", "type": "string"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.AddExtension("User", s, false); err != nil {
		t.Fatal(err)
	}
	rt := reg.ResourceType("User")
	_, err = resource.Decode(rt, []byte(`{"userName": "u", "badges": [{"value": "b-1"}, {"issuer": "HR"}]}`), resource.Options{})
	wantBadRequest(t, err, scim.InvalidValue, "urn:example:badges:badges.value")
	mustDecode(t, rt, `{"userName": "u", "badges": [{"value": "b-1", "issuer": "HR"}]}`)
}
