package resource_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

// projectedUser is the user the projection tests encode: every kind of
// attribute, a password (returned never) and clearance (returned request).
const projectedUser = `{
	"userName": "bjensen",
	"externalId": "701984",
	"name": {"givenName": "Barbara", "familyName": "Jensen"},
	"displayName": "Babs",
	"password": "t1meMa$heen",
	"emails": [
		{"value": "bjensen@example.com", "type": "work", "primary": true},
		{"value": "babs@jensen.org", "type": "home"}
	],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
		"department": "Tour Operations",
		"manager": {"value": "m-1", "$ref": "../Users/m-1"}
	},
	"urn:ietf:params:scim:schemas:extension:roster:2.0:User": {"level": 3, "clearance": "secret"}
}`

const (
	projectedCore = `"userName": "bjensen", "externalId": "701984",
		"name": {"givenName": "Barbara", "familyName": "Jensen"}, "displayName": "Babs",
		"emails": [
			{"value": "bjensen@example.com", "type": "work", "primary": true},
			{"value": "babs@jensen.org", "type": "home"}
		]`
	projectedEnterprise = `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
		"department": "Tour Operations", "manager": {"value": "m-1", "$ref": "../Users/m-1"}}`
	projectedMeta = `"meta": {"resourceType": "User", "location": "https://example.com/v2/Users/u-1", "version": "W/\"1\""}`
)

func projectedResource(t *testing.T, rt *schema.ResourceType) *resource.Resource {
	t.Helper()
	r := mustDecode(t, rt, projectedUser)
	r.SetID("u-1")
	r.SetMeta(resource.Meta{Location: "https://example.com/v2/Users/u-1", Version: `W/"1"`})
	return r
}

func TestProjection(t *testing.T) {
	const (
		core       = `"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]`
		coreAndEnt = `"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]`
		all        = `"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "urn:ietf:params:scim:schemas:extension:roster:2.0:User"]`
	)
	tests := []struct {
		name       string
		attributes []string
		excluded   []string
		want       string
	}{
		{name: "no parameters return the default attributes",
			want: `{` + all + `, "id": "u-1", ` + projectedCore + `, ` + projectedEnterprise + `,
				"urn:ietf:params:scim:schemas:extension:roster:2.0:User": {"level": 3}, ` + projectedMeta + `}`},
		{name: "attributes=userName returns id, schemas and userName",
			attributes: []string{"userName"}, want: `{` + core + `, "id": "u-1", "userName": "bjensen"}`},
		{name: "attribute names are case-insensitive",
			attributes: []string{"USERNAME,Name.GivenName"}, want: `{` + core + `, "id": "u-1", "userName": "bjensen", "name": {"givenName": "Barbara"}}`},
		{name: "a URN-qualified core attribute is the attribute",
			attributes: []string{"urn:ietf:params:scim:schemas:core:2.0:User:userName"}, want: `{` + core + `, "id": "u-1", "userName": "bjensen"}`},
		{name: "attributes=name.givenName returns name with only givenName",
			attributes: []string{"name.givenName"}, want: `{` + core + `, "id": "u-1", "name": {"givenName": "Barbara"}}`},
		{name: "attributes=emails returns emails with every sub-attribute",
			attributes: []string{"emails"}, want: `{` + core + `, "id": "u-1", "emails": [
				{"value": "bjensen@example.com", "type": "work", "primary": true},
				{"value": "babs@jensen.org", "type": "home"}]}`},
		{name: "attributes=emails.value returns only the values",
			attributes: []string{"emails.value"}, want: `{` + core + `, "id": "u-1", "emails": [{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}]}`},
		{name: "a list in one parameter and several parameters add up",
			attributes: []string{"userName, displayName", "externalId"}, want: `{` + core + `, "id": "u-1", "externalId": "701984", "userName": "bjensen", "displayName": "Babs"}`},
		{name: "the enterprise URN returns the whole extension",
			attributes: []string{enterpriseURN}, want: `{` + coreAndEnt + `, "id": "u-1", ` + projectedEnterprise + `}`},
		{name: "a URN-qualified extension attribute returns it",
			attributes: []string{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"},
			want:       `{` + coreAndEnt + `, "id": "u-1", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m-1", "$ref": "../Users/m-1"}}}`},
		{name: "a URN-qualified extension sub-attribute returns it",
			attributes: []string{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"},
			want:       `{` + coreAndEnt + `, "id": "u-1", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m-1"}}}`},
		{name: "meta sub-attributes can be asked for",
			attributes: []string{"meta.version"}, want: `{` + core + `, "id": "u-1", "meta": {"version": "W/\"1\""}}`},
		{name: "excludedAttributes=emails,name.familyName leaves the rest",
			excluded: []string{"emails,name.familyName"},
			want: `{` + all + `, "id": "u-1", "userName": "bjensen", "externalId": "701984", "name": {"givenName": "Barbara"}, "displayName": "Babs",
				` + projectedEnterprise + `, "urn:ietf:params:scim:schemas:extension:roster:2.0:User": {"level": 3}, ` + projectedMeta + `}`},
		{name: "excludedAttributes=id still returns id",
			excluded: []string{"id"},
			want: `{` + all + `, "id": "u-1", ` + projectedCore + `, ` + projectedEnterprise + `,
				"urn:ietf:params:scim:schemas:extension:roster:2.0:User": {"level": 3}, ` + projectedMeta + `}`},
		{name: "excluding an extension URN drops the extension",
			excluded: []string{enterpriseURN, rosterURN, "meta"}, want: `{` + core + `, "id": "u-1", ` + projectedCore + `}`},
		{name: "excluding an extension sub-attribute",
			excluded: []string{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.$ref", "name", "emails", "meta", rosterURN},
			want: `{` + coreAndEnt + `, "id": "u-1", "userName": "bjensen", "externalId": "701984", "displayName": "Babs",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tour Operations", "manager": {"value": "m-1"}}}`},
		{name: "the password is never returned, even when asked for",
			attributes: []string{"password"}, want: `{` + core + `, "id": "u-1"}`},
		{name: "the password is never returned with other attributes",
			attributes: []string{"password", "userName"}, want: `{` + core + `, "id": "u-1", "userName": "bjensen"}`},
		{name: "unknown names are ignored",
			attributes: []string{"shoeSize,userName,urn:example:other:1.0:User:x"}, excluded: []string{"favouriteColour"},
			want: `{` + core + `, "id": "u-1", "userName": "bjensen"}`},
		{name: "only unknown names give only what is returned always",
			attributes: []string{"shoeSize"},
			want:       `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u-1"}`},
		{name: "an attribute returned on request is returned when asked for",
			attributes: []string{"clearance"}, want: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:roster:2.0:User"],
				"id": "u-1", "urn:ietf:params:scim:schemas:extension:roster:2.0:User": {"clearance": "secret"}}`},
		{name: "an attribute returned on request is returned when asked for by URN",
			attributes: []string{"urn:ietf:params:scim:schemas:extension:roster:2.0:User:clearance", "userName"},
			want: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:roster:2.0:User"],
				"id": "u-1", "userName": "bjensen", "urn:ietf:params:scim:schemas:extension:roster:2.0:User": {"clearance": "secret"}}`},
		{name: "an attribute returned on request is not returned by excludedAttributes",
			excluded: []string{"userName"},
			want: `{` + all + `, "id": "u-1", "externalId": "701984", "name": {"givenName": "Barbara", "familyName": "Jensen"}, "displayName": "Babs",
				"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
				` + projectedEnterprise + `, "urn:ietf:params:scim:schemas:extension:roster:2.0:User": {"level": 3}, ` + projectedMeta + `}`},
		{name: "a sub-attribute without a value leaves no empty object",
			attributes: []string{"name.middleName", "userName"}, want: `{` + core + `, "id": "u-1", "userName": "bjensen"}`},
		{name: "several sub-attributes of one attribute can be asked for",
			attributes: []string{"emails.type", "emails.primary"}, want: `{` + core + `, "id": "u-1", "emails": [{"type": "work", "primary": true}, {"type": "home"}]}`},
		{name: "elements without the asked sub-attribute are left out",
			attributes: []string{"emails.primary"}, want: `{` + core + `, "id": "u-1", "emails": [{"primary": true}]}`},
		{name: "an extension whose asked sub-attribute has no value is left out",
			attributes: []string{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName"}, want: `{` + core + `, "id": "u-1"}`},
		{name: "excluding every sub-attribute with a value leaves no empty object",
			excluded: []string{"name.givenName", "name.familyName", "emails.value", "emails.type", "emails.primary", "meta", enterpriseURN, rosterURN},
			want:     `{` + core + `, "id": "u-1", "userName": "bjensen", "externalId": "701984", "displayName": "Babs"}`},
	}
	rt := userType(t)
	r := projectedResource(t, rt)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := resource.NewProjection(rt, tt.attributes, tt.excluded)
			if err != nil {
				t.Fatalf("NewProjection: %v", err)
			}
			got := encoded(t, r, p)
			if want := jsonValue(t, tt.want); !reflect.DeepEqual(got, want) {
				t.Errorf("got  %v\nwant %v\n(%s)", got, want, r.AppendJSON(nil, p))
			}
		})
	}
}

func TestProjectionOnAGroup(t *testing.T) {
	rt := groupType(t)
	r := mustDecode(t, rt, string(readTestdata(t, "rfc7643-8.4-group.json")))
	r.SetID("g-1")
	tests := []struct {
		name                 string
		attributes, excluded []string
		want                 string
	}{
		{name: "excludedAttributes=members returns no members (Entra)", excluded: []string{"members"},
			want: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g-1", "displayName": "Tour Guides"}`},
		{name: "attributes=displayName returns no members", attributes: []string{"displayName"},
			want: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g-1", "displayName": "Tour Guides"}`},
		{name: "attributes=members.value returns member ids", attributes: []string{"members.value"},
			want: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g-1", "members": [
				{"value": "2819c223-7f76-453a-919d-413861904646"}, {"value": "902c246b-6245-4190-8e05-00816be7344a"}]}`},
		{name: "User attributes are unknown to a Group and ignored", attributes: []string{"userName", "displayName"},
			want: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g-1", "displayName": "Tour Guides"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := resource.NewProjection(rt, tt.attributes, tt.excluded)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := encoded(t, r, p), jsonValue(t, tt.want); !reflect.DeepEqual(got, want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
		})
	}
}

func TestNewProjectionRejectsMalformedNames(t *testing.T) {
	tests := []struct {
		name                 string
		attributes, excluded []string
	}{
		{"a sub-attribute of a simple attribute", []string{"userName.first"}, nil},
		{"a sub-attribute of a simple attribute, excluded", nil, []string{"active.x"}},
		{"the core schema URN alone", []string{userURN}, nil},
	}
	rt := userType(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := resource.NewProjection(rt, tt.attributes, tt.excluded)
			if p != nil {
				t.Error("got a projection with the error")
			}
			wantBadRequest(t, err, scim.InvalidValue, strings.Join(append(tt.attributes, tt.excluded...), ""))
		})
	}
}

func TestProjectionIncludes(t *testing.T) {
	tests := []struct {
		name                 string
		attributes, excluded []string
		path                 string
		want                 bool
	}{
		{name: "a nil projection includes a default attribute", path: "userName", want: true},
		{name: "a nil projection includes a default sub-attribute", path: "name.givenName", want: true},
		{name: "a nil projection includes an extension attribute", path: enterpriseURN + ":manager.value", want: true},
		{name: "a nil projection excludes the password", path: "password", want: false},
		{name: "a nil projection excludes an attribute returned on request", path: "clearance", want: false},
		{name: "id is always included", attributes: []string{"userName"}, excluded: []string{"id"}, path: "id", want: true},
		{name: "the password is never included", attributes: []string{"password"}, path: "password", want: false},
		{name: "an asked attribute is included", attributes: []string{"userName"}, path: "userName", want: true},
		{name: "an attribute not asked for is not", attributes: []string{"userName"}, path: "displayName", want: false},
		{name: "the parent of an asked sub-attribute is included", attributes: []string{"name.givenName"}, path: "name", want: true},
		{name: "an asked sub-attribute is included", attributes: []string{"name.givenName"}, path: "name.givenName", want: true},
		{name: "a sibling of an asked sub-attribute is not", attributes: []string{"name.givenName"}, path: "name.familyName", want: false},
		{name: "the sub-attributes of an asked attribute are included", attributes: []string{"emails"}, path: "emails.type", want: true},
		{name: "the attributes of an asked extension are included", attributes: []string{enterpriseURN}, path: "department", want: true},
		{name: "the sub-attributes of an asked extension are included", attributes: []string{enterpriseURN}, path: "manager.$ref", want: true},
		{name: "an attribute returned on request is included when asked", attributes: []string{"clearance"}, path: "clearance", want: true},
		{name: "an excluded attribute is not included", excluded: []string{"emails"}, path: "emails", want: false},
		{name: "the sub-attributes of an excluded attribute are not", excluded: []string{"emails"}, path: "emails.value", want: false},
		{name: "the parent of an excluded sub-attribute is", excluded: []string{"name.familyName"}, path: "name", want: true},
		{name: "the attributes of an excluded extension are not", excluded: []string{enterpriseURN}, path: "manager.value", want: false},
		{name: "an excluded attribute is not included even when asked", attributes: []string{"userName", "displayName"}, excluded: []string{"displayName"}, path: "displayName", want: false},
	}
	rt := userType(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *resource.Projection
			if tt.attributes != nil || tt.excluded != nil {
				var err error
				if p, err = resource.NewProjection(rt, tt.attributes, tt.excluded); err != nil {
					t.Fatal(err)
				}
			}
			if got := p.Includes(resolve(t, rt, tt.path)); got != tt.want {
				t.Errorf("Includes(%s) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
	// The zero Projection behaves like a nil one.
	var zero resource.Projection
	if !zero.Includes(resolve(t, rt, "userName")) || zero.Includes(resolve(t, rt, "clearance")) {
		t.Error("the zero Projection does not return the default set")
	}
}
