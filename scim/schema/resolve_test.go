package schema_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim/schema"
)

const (
	coreUser   = schema.UserURN
	enterprise = schema.EnterpriseUserURN
)

func users(t *testing.T) *schema.ResourceType {
	t.Helper()
	rt := schema.NewRegistry().ResourceType("User")
	if rt == nil {
		t.Fatal("NewRegistry has no User resource type")
	}
	return rt
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		want      string // Ref.String()
		extension string
		leaf      schema.Type // "" when the Ref names a whole extension
	}{
		{"a core attribute", "userName", "userName", "", schema.String},
		{"a core attribute in upper case", "USERNAME", "userName", "", schema.String},
		{"a sub-attribute", "name.givenName", "name.givenName", "", schema.String},
		{"a sub-attribute in upper case", "name.GIVENNAME", "name.givenName", "", schema.String},
		{"a sub-attribute of a multi-valued attribute", "emails.value", "emails.value", "", schema.String},
		{"a multi-valued complex attribute", "emails", "emails", "", schema.Complex},
		{"the common attribute id", "id", "id", "", schema.String},
		{"the common attribute externalId", "externalId", "externalId", "", schema.String},
		{"a sub-attribute of meta", "meta.lastModified", "meta.lastModified", "", schema.DateTime},
		{"meta in another case", "META.Created", "meta.created", "", schema.DateTime},
		{"a core attribute qualified by the core URN", coreUser + ":userName", "userName", "", schema.String},
		{"a core sub-attribute qualified by the core URN", coreUser + ":name.familyName", "name.familyName", "", schema.String},
		{"the core URN in upper case", strings.ToUpper(coreUser) + ":displayName", "displayName", "", schema.String},
		{"a common attribute qualified by the core URN", coreUser + ":id", "id", "", schema.String},
		{"a common sub-attribute qualified by the core URN", coreUser + ":meta.version", "meta.version", "", schema.String},
		{"an extension sub-attribute", enterprise + ":manager.value", enterprise + ":manager.value", enterprise, schema.String},
		{"an extension attribute in upper case", strings.ToUpper(enterprise) + ":DEPARTMENT", enterprise + ":department", enterprise, schema.String},
		{"an extension's $ref", enterprise + ":manager.$REF", enterprise + ":manager.$ref", enterprise, schema.Reference},
		{"an unqualified extension attribute", "department", enterprise + ":department", enterprise, schema.String},
		{"an unqualified extension sub-attribute", "manager.displayName", enterprise + ":manager.displayName", enterprise, schema.String},
		{"the bare extension URN", enterprise, enterprise, enterprise, ""},
		{"the bare extension URN in upper case", strings.ToUpper(enterprise), enterprise, enterprise, ""},
	}
	rt := users(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := rt.Resolve(tt.path)
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.path, err)
			}
			if got := ref.String(); got != tt.want {
				t.Errorf("Resolve(%q) = %s, want %s", tt.path, got, tt.want)
			}
			if ref.Extension != tt.extension {
				t.Errorf("Extension = %q, want %q", ref.Extension, tt.extension)
			}
			switch leaf := ref.Leaf(); {
			case tt.leaf == "" && (ref.Attr != nil || leaf != nil):
				t.Errorf("Resolve(%q) names attribute %v, want a whole extension", tt.path, leaf)
			case tt.leaf != "" && (leaf == nil || leaf.Type != tt.leaf):
				t.Errorf("Resolve(%q) leaf = %+v, want type %s", tt.path, leaf, tt.leaf)
			}
			if ref.Sub != nil && ref.Attr.SubAttribute(ref.Sub.Name) != ref.Sub {
				t.Errorf("Sub %s is not a sub-attribute of Attr %s", ref.Sub.Name, ref.Attr.Name)
			}

			// The canonical spelling resolves to the same reference.
			again, err := rt.Resolve(ref.String())
			if err != nil {
				t.Fatalf("Resolve(%q) of the canonical spelling: %v", ref.String(), err)
			}
			if again != ref {
				t.Errorf("Resolve(%q) = %+v, want %+v", ref.String(), again, ref)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		want    string // a part of the message
		unknown bool   // the error wraps ErrUnknownAttribute
	}{
		{"an unknown attribute", "nickname2", `unknown attribute "nickname2"`, true},
		{"an unknown sub-attribute", "name.middle", `unknown attribute "name.middle"`, true},
		{"a sub-attribute path with two dots", "name.givenName.x", `unknown attribute "name.givenName.x"`, true},
		{"the empty path", "", `unknown attribute ""`, true},
		{"an unknown URN", "urn:example:unknown:1.0:foo", `unknown schema in "urn:example:unknown:1.0:foo"`, true},
		{"the Group URN on a User", schema.GroupURN + ":displayName", "unknown schema", true},
		{"a URN that only starts like the core URN", coreUser + "s:userName", "unknown schema", true},
		{"a core attribute qualified by the extension URN", enterprise + ":userName", `unknown attribute "` + enterprise + `:userName"`, true},
		{"a common attribute qualified by the extension URN", enterprise + ":id", `unknown attribute "` + enterprise + `:id"`, true},
		{"an extension attribute qualified by the core URN", coreUser + ":department", `unknown attribute "` + coreUser + `:department"`, true},
		{"an unknown extension sub-attribute", enterprise + ":manager.email", `unknown attribute "` + enterprise + `:manager.email"`, true},
		{"a sub-attribute of a simple attribute", "userName.value", `attribute "userName" has no sub-attributes`, false},
		{"a sub-attribute of a simple extension attribute", enterprise + ":department.name", `attribute "department" has no sub-attributes`, false},
		{"the bare core URN", coreUser, "names the core schema, not an attribute", false},
		{"the bare core URN with a trailing colon", coreUser + ":", "ends with a colon but names no attribute", false},
		{"the bare enterprise URN with a trailing colon", schema.EnterpriseUserURN + ":", "ends with a colon but names no attribute", false},
	}
	rt := users(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := rt.Resolve(tt.path)
			if err == nil {
				t.Fatalf("Resolve(%q) = %s, want an error", tt.path, ref)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Resolve(%q) error = %q, want one containing %q", tt.path, err, tt.want)
			}
			if got := errors.Is(err, schema.ErrUnknownAttribute); got != tt.unknown {
				t.Errorf("errors.Is(%v, ErrUnknownAttribute) = %t, want %t", err, got, tt.unknown)
			}
			if ref != (schema.Ref{}) {
				t.Errorf("Resolve returned %+v along with its error", ref)
			}
		})
	}
}

func TestResolveOnGroup(t *testing.T) {
	groups := schema.NewRegistry().ResourceType("Group")
	for _, path := range []string{"displayName", "members.value", "members.$ref", "members.display", "meta.location", schema.GroupURN + ":members.type"} {
		if _, err := groups.Resolve(path); err != nil {
			t.Errorf("Resolve(%q): %v", path, err)
		}
	}
	for _, path := range []string{"userName", "department", enterprise + ":department", enterprise} {
		if _, err := groups.Resolve(path); !errors.Is(err, schema.ErrUnknownAttribute) {
			t.Errorf("Resolve(%q) error = %v, want ErrUnknownAttribute", path, err)
		}
	}
}

// TestResolvePrefersTheLongestSchemaURN covers URNs that extend one another:
// a URN may contain colons, so the part of a path before the attribute is
// the longest URN of the resource type's schemas that it starts with.
func TestResolvePrefersTheLongestSchemaURN(t *testing.T) {
	const (
		base = "urn:example:params:scim:schemas:extension:acme:2.0:User"
		hr   = base + ":hr"
	)
	reg := schema.NewRegistry()
	for _, doc := range []string{
		`{"id":"` + base + `","attributes":[{"name":"badge"},{"name":"hr"}]}`,
		`{"id":"` + hr + `","attributes":[{"name":"grade"}]}`,
	} {
		if err := reg.AddExtension("User", mustParse(t, doc), false); err != nil {
			t.Fatal(err)
		}
	}
	rt := reg.ResourceType("User")
	tests := []struct {
		path      string
		extension string
		attr      string // "" for the whole extension
	}{
		{base + ":badge", base, "badge"},
		{hr + ":grade", hr, "grade"},
		{strings.ToUpper(hr) + ":GRADE", hr, "grade"},
		// Also base's attribute hr, but the longer URN wins.
		{hr, hr, ""},
		{base, base, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			ref, err := rt.Resolve(tt.path)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			var attr string
			if ref.Attr != nil {
				attr = ref.Attr.Name
			}
			if ref.Extension != tt.extension || attr != tt.attr {
				t.Errorf("Resolve = extension %s attribute %q, want %s %q", ref.Extension, attr, tt.extension, tt.attr)
			}
		})
	}
}

func TestSplitURN(t *testing.T) {
	tests := []struct {
		path, urn, rest string
	}{
		{"userName", "", "userName"},
		{"name.givenName", "", "name.givenName"},
		{"urn", "", "urn"},
		{coreUser + ":userName", coreUser, "userName"},
		{strings.ToLower(coreUser) + ":userName", coreUser, "userName"},
		{enterprise + ":manager.value", enterprise, "manager.value"},
		{enterprise, enterprise, ""},
	}
	rt := users(t)
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			urn, rest, err := rt.SplitURN(tt.path)
			if err != nil || urn != tt.urn || rest != tt.rest {
				t.Errorf("SplitURN(%q) = %q, %q, %v; want %q, %q", tt.path, urn, rest, err, tt.urn, tt.rest)
			}
		})
	}
	if _, _, err := rt.SplitURN("urn:example:nope:attr"); !errors.Is(err, schema.ErrUnknownAttribute) {
		t.Errorf("SplitURN of an unknown URN: error = %v, want ErrUnknownAttribute", err)
	}
}

func TestResolveParts(t *testing.T) {
	rt := users(t)
	tests := []struct {
		urn, name, sub string
		want           string
	}{
		{"", "emails", "type", "emails.type"},
		{"", "costCenter", "", enterprise + ":costCenter"},
		{coreUser, "meta", "created", "meta.created"},
		{enterprise, "MANAGER", "VALUE", enterprise + ":manager.value"},
		{strings.ToUpper(enterprise), "division", "", enterprise + ":division"},
	}
	for _, tt := range tests {
		ref, err := rt.ResolveParts(tt.urn, tt.name, tt.sub)
		if err != nil {
			t.Errorf("ResolveParts(%q, %q, %q): %v", tt.urn, tt.name, tt.sub, err)
			continue
		}
		if got := ref.String(); got != tt.want {
			t.Errorf("ResolveParts(%q, %q, %q) = %s, want %s", tt.urn, tt.name, tt.sub, got, tt.want)
		}
	}
	if _, err := rt.ResolveParts("urn:example:nope", "x", ""); !errors.Is(err, schema.ErrUnknownAttribute) {
		t.Errorf("ResolveParts with an unknown URN: error = %v, want ErrUnknownAttribute", err)
	}
}

func TestRefStringIsCanonical(t *testing.T) {
	user, ent := schema.UserSchema(), schema.EnterpriseUserSchema()
	name := user.Attribute("name")
	manager := ent.Attribute("manager")
	tests := []struct {
		name string
		ref  schema.Ref
		want string
	}{
		{"a core attribute", schema.Ref{Attr: user.Attribute("userName")}, "userName"},
		{"a core sub-attribute", schema.Ref{Attr: name, Sub: name.SubAttribute("givenname")}, "name.givenName"},
		{"an extension attribute", schema.Ref{Extension: enterprise, Attr: ent.Attribute("employeeNumber")}, enterprise + ":employeeNumber"},
		{"an extension sub-attribute", schema.Ref{Extension: enterprise, Attr: manager, Sub: manager.SubAttribute("$ref")}, enterprise + ":manager.$ref"},
		{"a whole extension", schema.Ref{Extension: enterprise}, enterprise},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ref.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

// documentJSON encodes doc and decodes it into generic JSON values.
func documentJSON(t *testing.T, doc any) map[string]any {
	t.Helper()
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("Unmarshal(%s): %v", data, err)
	}
	return m
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestResourceTypeDocumentHasTheShapeOfRFC7643Section6(t *testing.T) {
	reg := schema.NewRegistry()
	tests := []struct {
		name    string
		rt      *schema.ResourceType
		baseURL string
		want    string
	}{
		{
			// RFC 7643 §8.6, with the extension optional as Roster has it.
			name:    "User with its extension",
			rt:      reg.ResourceType("User"),
			baseURL: "https://example.com/v2",
			want: `{
			  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
			  "id": "User",
			  "name": "User",
			  "endpoint": "/Users",
			  "description": "User Account",
			  "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
			  "schemaExtensions": [
			    {"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": false}
			  ],
			  "meta": {"location": "https://example.com/v2/ResourceTypes/User", "resourceType": "ResourceType"}
			}`,
		},
		{
			name:    "Group without extensions, base URL with a trailing slash",
			rt:      reg.ResourceType("Group"),
			baseURL: "https://example.com/v2/",
			want: `{
			  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
			  "id": "Group",
			  "name": "Group",
			  "endpoint": "/Groups",
			  "description": "Group",
			  "schema": "urn:ietf:params:scim:schemas:core:2.0:Group",
			  "meta": {"location": "https://example.com/v2/ResourceTypes/Group", "resourceType": "ResourceType"}
			}`,
		},
		{
			name: "Group without a base URL has no location",
			rt:   reg.ResourceType("Group"),
			want: `{
			  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
			  "id": "Group",
			  "name": "Group",
			  "endpoint": "/Groups",
			  "description": "Group",
			  "schema": "urn:ietf:params:scim:schemas:core:2.0:Group",
			  "meta": {"resourceType": "ResourceType"}
			}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := documentJSON(t, tt.rt.Document(tt.baseURL))
			var want map[string]any
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				t.Errorf("Document =\n%s\nwant\n%s", g, tt.want)
			}
		})
	}
}

func TestSchemaDocumentHasTheShapeOfRFC7643Section7(t *testing.T) {
	for _, s := range schema.NewRegistry().Schemas() {
		t.Run(s.Name, func(t *testing.T) {
			doc := documentJSON(t, s.Document("https://example.com/v2"))
			wantKeys := []string{"attributes", "description", "id", "meta", "name", "schemas"}
			if got := keys(doc); !sameSet(got, wantKeys) {
				t.Errorf("keys = %v, want %v", got, wantKeys)
			}
			if !reflect.DeepEqual(doc["schemas"], []any{schema.SchemaURN}) {
				t.Errorf("schemas = %v", doc["schemas"])
			}
			if doc["id"] != s.ID || doc["name"] != s.Name || doc["description"] != s.Description {
				t.Errorf("id, name, description = %v, %v, %v", doc["id"], doc["name"], doc["description"])
			}
			wantMeta := map[string]any{"resourceType": "Schema", "location": "https://example.com/v2/Schemas/" + s.ID}
			if !reflect.DeepEqual(doc["meta"], wantMeta) {
				t.Errorf("meta = %v, want %v", doc["meta"], wantMeta)
			}

			// Every attribute spells out the characteristics of §7.
			attrs, _ := doc["attributes"].([]any)
			if len(attrs) != len(s.Attributes) {
				t.Fatalf("%d attributes, want %d", len(attrs), len(s.Attributes))
			}
			var check func(prefix string, attrs []any)
			check = func(prefix string, attrs []any) {
				for _, a := range attrs {
					m := a.(map[string]any)
					path := prefix + m["name"].(string)
					for _, k := range []string{"name", "type", "multiValued", "required", "caseExact", "mutability", "returned", "uniqueness"} {
						if _, ok := m[k]; !ok {
							t.Errorf("%s has no %q", path, k)
						}
					}
					_, hasSubs := m["subAttributes"]
					if isComplex := m["type"] == "complex"; isComplex != hasSubs {
						t.Errorf("%s: type %v with subAttributes present = %t", path, m["type"], hasSubs)
					}
					if subs, ok := m["subAttributes"].([]any); ok {
						check(path+".", subs)
					}
				}
			}
			check("", attrs)

			// What a client reads back is the schema that was served.
			data, err := json.Marshal(s.Document(""))
			if err != nil {
				t.Fatal(err)
			}
			back, err := schema.Parse(data)
			if err != nil {
				t.Fatalf("Parse(Document): %v", err)
			}
			if !reflect.DeepEqual(back, s) {
				t.Error("Parse(Document) differs from the schema served")
			}
		})
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]bool, len(a))
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			return false
		}
	}
	return true
}
