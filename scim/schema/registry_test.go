package schema_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/scim/schema"
)

const acmeURN = "urn:example:params:scim:schemas:extension:acme:2.0:User"

// parseFile parses the schema document testdata/name.
func parseFile(t *testing.T, name string) *schema.Schema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.Parse(data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return s
}

// mustParse parses a schema document given inline.
func mustParse(t *testing.T, doc string) *schema.Schema {
	t.Helper()
	s, err := schema.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return s
}

// extensionURNs lists the URNs of rt's extensions with their required flag.
func extensionURNs(rt *schema.ResourceType) string {
	var out []string
	for _, e := range rt.Extensions {
		out = append(out, fmt.Sprintf("%s required=%t", e.Schema.ID, e.Required))
	}
	return strings.Join(out, ", ")
}

func TestNewRegistryHoldsTheCoreSchemas(t *testing.T) {
	reg := schema.NewRegistry()
	var ids []string
	for _, s := range reg.Schemas() {
		ids = append(ids, s.ID)
	}
	want := []string{schema.UserURN, schema.GroupURN, schema.EnterpriseUserURN}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("Schemas() = %v, want %v", ids, want)
	}

	tests := []struct {
		name string
		urn  string
		want string // the ID of the schema found, or "" for none
	}{
		{"the User URN", schema.UserURN, schema.UserURN},
		{"the Group URN", schema.GroupURN, schema.GroupURN},
		{"the Enterprise User URN", schema.EnterpriseUserURN, schema.EnterpriseUserURN},
		{"a URN in upper case", strings.ToUpper(schema.EnterpriseUserURN), schema.EnterpriseUserURN},
		{"a URN in mixed case", "Urn:Ietf:Params:Scim:Schemas:Core:2.0:group", schema.GroupURN},
		{"an unknown URN", "urn:example:nope", ""},
		{"a prefix of a known URN", "urn:ietf:params:scim:schemas:core:2.0", ""},
		{"the empty string", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reg.Schema(tt.urn)
			switch {
			case got == nil && tt.want != "":
				t.Errorf("Schema(%q) = nil, want %s", tt.urn, tt.want)
			case got != nil && got.ID != tt.want:
				t.Errorf("Schema(%q) = %s, want %q", tt.urn, got.ID, tt.want)
			}
		})
	}
}

func TestNewRegistryHoldsUserAndGroupResourceTypes(t *testing.T) {
	reg := schema.NewRegistry()
	types := reg.ResourceTypes()
	if len(types) != 2 {
		t.Fatalf("ResourceTypes() has %d types, want 2", len(types))
	}
	tests := []struct {
		rt                   *schema.ResourceType
		id, name, endpoint   string
		schemaURN, extension string
	}{
		{types[0], "User", "User", "/Users", schema.UserURN, schema.EnterpriseUserURN + " required=false"},
		{types[1], "Group", "Group", "/Groups", schema.GroupURN, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := tt.rt
			if rt.ID != tt.id || rt.Name != tt.name || rt.Endpoint != tt.endpoint {
				t.Errorf("got id=%q name=%q endpoint=%q, want %q %q %q", rt.ID, rt.Name, rt.Endpoint, tt.id, tt.name, tt.endpoint)
			}
			if rt.Schema != reg.Schema(tt.schemaURN) {
				t.Errorf("Schema is %p (%s), want the registered %s", rt.Schema, rt.Schema.ID, tt.schemaURN)
			}
			if got := extensionURNs(rt); got != tt.extension {
				t.Errorf("extensions = %q, want %q", got, tt.extension)
			}
			for _, e := range rt.Extensions {
				if e.Schema != reg.Schema(e.Schema.ID) {
					t.Errorf("extension %s is not the registered schema", e.Schema.ID)
				}
			}
		})
	}
}

func TestRegistryResourceTypeLooksUpByNameOrIDOnly(t *testing.T) {
	reg := schema.NewRegistry()
	if err := reg.AddResourceType(&schema.ResourceType{
		ID: "dev", Name: "Device", Endpoint: "/Devices",
		Schema: mustParse(t, `{"id":"urn:example:Device","attributes":[{"name":"serial"}]}`),
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		lookup string
		want   string // Name of the resource type found, or "" for nil
	}{
		{"the exact name", "User", "User"},
		{"the name in lower case", "user", "User"},
		{"the name in upper case", "GROUP", "Group"},
		{"a custom type's name", "device", "Device"},
		{"a custom type's ID that differs from its name", "DEV", "Device"},
		{"the plural as in the endpoint", "users", ""},
		{"the endpoint itself", "/Users", ""},
		{"the endpoint without its slash", "Users", ""},
		{"the core schema URN", schema.UserURN, ""},
		{"the empty string", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reg.ResourceType(tt.lookup)
			switch {
			case got == nil && tt.want != "":
				t.Errorf("ResourceType(%q) = nil, want %s", tt.lookup, tt.want)
			case got != nil && got.Name != tt.want:
				t.Errorf("ResourceType(%q) = %s, want %q", tt.lookup, got.Name, tt.want)
			}
		})
	}
}

func TestRegistryResourceTypeAtLooksUpByEndpointAsWritten(t *testing.T) {
	reg := schema.NewRegistry()
	if err := reg.AddResourceType(&schema.ResourceType{
		ID: "dev", Name: "Device", Endpoint: "/Hardware",
		Schema: mustParse(t, `{"id":"urn:example:Device","attributes":[{"name":"serial"}]}`),
	}); err != nil {
		t.Fatal(err)
	}
	if err := reg.AddExtension("User", parseFile(t, "acme.json"), false); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		endpoint string
		want     string // Name of the resource type found, or "" for nil
	}{
		{"the Users endpoint", "/Users", "User"},
		{"the Groups endpoint", "/Groups", "Group"},
		{"a custom type's endpoint, not its name plus s", "/Hardware", "Device"},
		{"the endpoint in lower case", "/users", ""},
		{"the endpoint without its slash", "Users", ""},
		{"the endpoint with a trailing slash", "/Users/", ""},
		{"the name", "User", ""},
		{"the name plus s of a custom type", "/Devices", ""},
		{"the empty string", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reg.ResourceTypeAt(tt.endpoint)
			switch {
			case got == nil && tt.want != "":
				t.Errorf("ResourceTypeAt(%q) = nil, want %s", tt.endpoint, tt.want)
			case got != nil && got.Name != tt.want:
				t.Errorf("ResourceTypeAt(%q) = %s, want %q", tt.endpoint, got.Name, tt.want)
			}
		})
	}
	// After AddExtension, the current snapshot, as ResourceType gives.
	if reg.ResourceTypeAt("/Users") != reg.ResourceType("User") {
		t.Error("ResourceTypeAt(/Users) is not the resource type ResourceType(User) returns")
	}
}

func TestAddExtensionReplacesTheResourceTypeWithASnapshot(t *testing.T) {
	reg := schema.NewRegistry()
	acme := parseFile(t, "acme.json")
	before := reg.ResourceType("User")
	groupBefore := reg.ResourceType("Group")

	if err := reg.AddExtension("user", acme, true); err != nil {
		t.Fatalf("AddExtension: %v", err)
	}
	after := reg.ResourceType("User")

	if after == before {
		t.Fatal("AddExtension modified the resource type in place")
	}
	if got, want := extensionURNs(before), schema.EnterpriseUserURN+" required=false"; got != want {
		t.Errorf("old value's extensions = %q, want them unchanged: %q", got, want)
	}
	if got, want := extensionURNs(after), schema.EnterpriseUserURN+" required=false, "+acmeURN+" required=true"; got != want {
		t.Errorf("new value's extensions = %q, want %q", got, want)
	}
	if after.ID != before.ID || after.Name != before.Name || after.Endpoint != before.Endpoint || after.Schema != before.Schema {
		t.Errorf("the new value changed more than the extensions: %+v", after)
	}
	if reg.ResourceType("Group") != groupBefore {
		t.Error("AddExtension to User replaced Group")
	}
	if reg.Schema(acmeURN) != acme {
		t.Errorf("Schema(%s) is not the added schema", acmeURN)
	}
	if n := len(reg.Schemas()); n != 4 {
		t.Errorf("Schemas() has %d schemas, want 4", n)
	}

	// The old value cannot see the extension; the new one can.
	path := acmeURN + ":building.floor"
	if _, err := before.Resolve(path); !errors.Is(err, schema.ErrUnknownAttribute) {
		t.Errorf("old value: Resolve(%s) error = %v, want ErrUnknownAttribute", path, err)
	}
	ref, err := after.Resolve(path)
	if err != nil {
		t.Fatalf("new value: Resolve(%s): %v", path, err)
	}
	if ref.Extension != acmeURN || ref.Leaf().Type != schema.Integer {
		t.Errorf("Resolve(%s) = %+v", path, ref)
	}
}

func TestAddExtensionResolvesTheAcmeAttributes(t *testing.T) {
	reg := schema.NewRegistry()
	if err := reg.AddExtension("User", parseFile(t, "acme.json"), false); err != nil {
		t.Fatal(err)
	}
	users := reg.ResourceType("User")
	tests := []struct {
		path string
		want string // Ref.String()
		typ  schema.Type
		mv   bool
	}{
		{acmeURN + ":costCenter", acmeURN + ":costCenter", schema.String, false},
		{acmeURN + ":badgeNumber", acmeURN + ":badgeNumber", schema.Integer, false},
		{acmeURN + ":hireDate", acmeURN + ":hireDate", schema.DateTime, false},
		{acmeURN + ":TAGS", acmeURN + ":tags", schema.String, true},
		{acmeURN + ":building", acmeURN + ":building", schema.Complex, false},
		{acmeURN + ":building.name", acmeURN + ":building.name", schema.String, false},
		{acmeURN + ":building.$ref", acmeURN + ":building.$ref", schema.Reference, false},
		// Unqualified names search the extensions in registration order,
		// so the Enterprise User's costCenter shadows Acme's.
		{"costCenter", schema.EnterpriseUserURN + ":costCenter", schema.String, false},
		{"badgeNumber", acmeURN + ":badgeNumber", schema.Integer, false},
		{"building.floor", acmeURN + ":building.floor", schema.Integer, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			ref, err := users.Resolve(tt.path)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got := ref.String(); got != tt.want {
				t.Errorf("Resolve = %s, want %s", got, tt.want)
			}
			if leaf := ref.Leaf(); leaf.Type != tt.typ || leaf.MultiValued != tt.mv {
				t.Errorf("leaf is %s multiValued=%t, want %s multiValued=%t", leaf.Type, leaf.MultiValued, tt.typ, tt.mv)
			}
		})
	}
}

func TestAddExtensionRegistersASharedSchemaOnce(t *testing.T) {
	reg := schema.NewRegistry()
	acme := parseFile(t, "acme.json")
	if err := reg.AddExtension("User", acme, false); err != nil {
		t.Fatal(err)
	}
	// A second copy parsed from the same document: the registry keeps the
	// schema it already has rather than serving two under one URN.
	if err := reg.AddExtension("Group", parseFile(t, "acme.json"), false); err != nil {
		t.Fatal(err)
	}
	if n := len(reg.Schemas()); n != 4 {
		t.Errorf("Schemas() has %d schemas, want 4", n)
	}
	if ext := reg.ResourceType("Group").Extension(acmeURN); ext == nil || ext.Schema != acme {
		t.Errorf("Group's extension is %+v, want the registered schema", ext)
	}
}

func TestAddExtensionErrors(t *testing.T) {
	tests := []struct {
		name         string
		resourceType string
		schema       func(t *testing.T) *schema.Schema
		want         string
	}{
		{
			name:         "adding the same extension twice",
			resourceType: "User",
			schema:       func(t *testing.T) *schema.Schema { return parseFile(t, "acme.json") },
			want:         "already has schema " + acmeURN,
		},
		{
			name:         "adding it twice under another spelling of the URN",
			resourceType: "User",
			schema: func(t *testing.T) *schema.Schema {
				return mustParse(t, `{"id":"`+strings.ToUpper(acmeURN)+`","attributes":[{"name":"x"}]}`)
			},
			want: "already has schema",
		},
		{
			name:         "adding the Enterprise User extension again",
			resourceType: "User",
			schema:       func(*testing.T) *schema.Schema { return schema.EnterpriseUserSchema() },
			want:         "already has schema " + schema.EnterpriseUserURN,
		},
		{
			name:         "adding the core schema as its own extension",
			resourceType: "User",
			schema:       func(*testing.T) *schema.Schema { return schema.UserSchema() },
			want:         "already has schema " + schema.UserURN,
		},
		{
			name:         "an unknown resource type",
			resourceType: "Device",
			schema:       func(*testing.T) *schema.Schema { return schema.EnterpriseUserSchema() },
			want:         `unknown resource type "Device"`,
		},
		{
			name:         "a resource type named by its endpoint",
			resourceType: "/Users",
			schema:       func(*testing.T) *schema.Schema { return schema.EnterpriseUserSchema() },
			want:         `unknown resource type "/Users"`,
		},
		{
			name:         "a schema that is not well formed",
			resourceType: "Group",
			schema: func(*testing.T) *schema.Schema {
				return &schema.Schema{ID: "urn:example:bad", Attributes: []*schema.Attribute{{Name: "1st"}}}
			},
			want: `invalid attribute name "1st"`,
		},
		{
			name:         "a schema whose id is not a URN",
			resourceType: "Group",
			schema: func(*testing.T) *schema.Schema {
				return &schema.Schema{ID: "acme", Attributes: []*schema.Attribute{{Name: "x"}}}
			},
			want: "id must be a URN",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := schema.NewRegistry()
			if err := reg.AddExtension("User", parseFile(t, "acme.json"), false); err != nil {
				t.Fatal(err)
			}
			types, schemas := reg.ResourceTypes(), reg.Schemas()

			err := reg.AddExtension(tt.resourceType, tt.schema(t), false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("AddExtension error = %v, want one containing %q", err, tt.want)
			}
			if got := reg.ResourceTypes(); got[0] != types[0] || got[1] != types[1] || len(got) != len(types) {
				t.Error("a failed AddExtension changed the resource types")
			}
			if got := reg.Schemas(); len(got) != len(schemas) {
				t.Errorf("a failed AddExtension left %d schemas, want %d", len(got), len(schemas))
			}
		})
	}
}

func TestAddResourceType(t *testing.T) {
	reg := schema.NewRegistry()
	device := mustParse(t, `{"id":"urn:example:Device","name":"Device","attributes":[{"name":"serial","uniqueness":"server"}]}`)
	ext := mustParse(t, `{"id":"urn:example:DeviceLocation","attributes":[{"name":"room"}]}`)
	rt := &schema.ResourceType{Name: "Device", Endpoint: "/Devices", Schema: device,
		Extensions: []schema.Extension{{Schema: ext, Required: true}}}
	if err := reg.AddResourceType(rt); err != nil {
		t.Fatalf("AddResourceType: %v", err)
	}
	if rt.ID != "Device" {
		t.Errorf("ID = %q, want it to default to the name", rt.ID)
	}
	if reg.ResourceType("device") != rt {
		t.Error("ResourceType(device) is not the added type")
	}
	if reg.Schema(device.ID) != device || reg.Schema(ext.ID) != ext {
		t.Error("the type's schemas were not registered")
	}
	if n := len(reg.ResourceTypes()); n != 3 {
		t.Errorf("ResourceTypes() has %d types, want 3", n)
	}

	// A type that reuses a registered schema does not register it again.
	admin := &schema.ResourceType{Name: "Admin", Endpoint: "/Admins", Schema: reg.Schema(schema.UserURN)}
	if err := reg.AddResourceType(admin); err != nil {
		t.Fatalf("AddResourceType(Admin): %v", err)
	}
	if n := len(reg.Schemas()); n != 5 {
		t.Errorf("Schemas() has %d schemas, want 5", n)
	}
}

func TestAddResourceTypeErrors(t *testing.T) {
	thing := func(t *testing.T) *schema.Schema {
		t.Helper()
		return mustParse(t, `{"id":"urn:example:Thing","attributes":[{"name":"label"}]}`)
	}
	tests := []struct {
		name string
		rt   func(t *testing.T) *schema.ResourceType
		want string
	}{
		{
			name: "a second type with an existing name",
			rt: func(t *testing.T) *schema.ResourceType {
				return &schema.ResourceType{Name: "User", Endpoint: "/People", Schema: thing(t)}
			},
			want: "resource type User already registered",
		},
		{
			name: "a second type with an existing name in another case",
			rt: func(t *testing.T) *schema.ResourceType {
				return &schema.ResourceType{Name: "group", Endpoint: "/Teams", Schema: thing(t)}
			},
			want: "already registered",
		},
		{
			name: "a second type with an existing endpoint",
			rt: func(t *testing.T) *schema.ResourceType {
				return &schema.ResourceType{Name: "Person", Endpoint: "/users", Schema: thing(t)}
			},
			want: "resource type Person already registered",
		},
		{
			name: "a second type with an existing ID",
			rt: func(t *testing.T) *schema.ResourceType {
				return &schema.ResourceType{ID: "User", Name: "Person", Endpoint: "/People", Schema: thing(t)}
			},
			want: "resource type Person already registered",
		},
		{
			name: "a type whose name is another type's ID",
			rt: func(t *testing.T) *schema.ResourceType {
				return &schema.ResourceType{Name: "DEV", Endpoint: "/Things", Schema: thing(t)}
			},
			want: "resource type DEV already registered",
		},
		{
			name: "a type whose ID is another type's name",
			rt: func(t *testing.T) *schema.ResourceType {
				return &schema.ResourceType{ID: "device", Name: "Thing", Endpoint: "/Things", Schema: thing(t)}
			},
			want: "resource type Thing already registered",
		},
		{
			name: "a type without a name",
			rt: func(t *testing.T) *schema.ResourceType {
				return &schema.ResourceType{Endpoint: "/Things", Schema: thing(t)}
			},
			want: "needs a name",
		},
		{
			name: "a type without a schema",
			rt: func(*testing.T) *schema.ResourceType {
				return &schema.ResourceType{Name: "Thing", Endpoint: "/Things"}
			},
			want: "needs a name, a schema",
		},
		{
			name: "an endpoint without a leading slash",
			rt: func(t *testing.T) *schema.ResourceType {
				return &schema.ResourceType{Name: "Thing", Endpoint: "Things", Schema: thing(t)}
			},
			want: "an endpoint starting with /",
		},
		{
			name: "a schema that is not well formed",
			rt: func(*testing.T) *schema.ResourceType {
				return &schema.ResourceType{Name: "Thing", Endpoint: "/Things",
					Schema: &schema.Schema{ID: "urn:example:Thing", Attributes: []*schema.Attribute{{Name: "a", Type: "text"}}}}
			},
			want: `unknown type "text"`,
		},
		{
			name: "a new schema under the URN of a registered one",
			rt: func(t *testing.T) *schema.ResourceType {
				return &schema.ResourceType{Name: "Thing", Endpoint: "/Things",
					Schema: mustParse(t, `{"id":"`+schema.GroupURN+`","attributes":[{"name":"label"}]}`)}
			},
			want: "schema " + schema.GroupURN + " already registered",
		},
		{
			name: "an extension under the URN of a registered schema",
			rt: func(t *testing.T) *schema.ResourceType {
				return &schema.ResourceType{Name: "Thing", Endpoint: "/Things", Schema: thing(t),
					Extensions: []schema.Extension{{Schema: mustParse(t, `{"id":"`+schema.EnterpriseUserURN+`","attributes":[{"name":"x"}]}`)}}}
			},
			want: "schema " + schema.EnterpriseUserURN + " already registered",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := schema.NewRegistry()
			// A type whose ID differs from its name, which lookups also find.
			if err := reg.AddResourceType(&schema.ResourceType{ID: "dev", Name: "Device", Endpoint: "/Devices",
				Schema: mustParse(t, `{"id":"urn:example:Device","attributes":[{"name":"serial"}]}`)}); err != nil {
				t.Fatal(err)
			}
			types, schemas := len(reg.ResourceTypes()), len(reg.Schemas())

			err := reg.AddResourceType(tt.rt(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("AddResourceType error = %v, want one containing %q", err, tt.want)
			}
			if n := len(reg.ResourceTypes()); n != types {
				t.Errorf("a failed AddResourceType left %d resource types, want %d", n, types)
			}
			if n := len(reg.Schemas()); n != schemas {
				t.Errorf("a failed AddResourceType left %d schemas, want %d", n, schemas)
			}
		})
	}
}

// TestRegistryReadsRaceWithAddExtension is meant for go test -race: readers
// resolve through the User resource type and walk the registry while
// extensions are added to it, including one schema registered twice.
func TestRegistryReadsRaceWithAddExtension(t *testing.T) {
	const readers, extensions = 4, 200
	reg := schema.NewRegistry()
	acme := parseFile(t, "acme.json")

	read := func() error {
		users := reg.ResourceType("User")
		if users == nil {
			return errors.New("ResourceType(User) = nil")
		}
		paths := []string{"userName", "department", schema.EnterpriseUserURN + ":manager.value"}
		if users.Extension(acmeURN) != nil {
			paths = append(paths, acmeURN+":building.floor")
		}
		for _, p := range paths {
			if _, err := users.Resolve(p); err != nil {
				return err
			}
		}
		for _, e := range users.Extensions {
			_ = e.Schema.Attribute("x")
		}
		_ = users.SchemaURNs()
		_ = users.Document("https://example.com/v2")
		for _, s := range reg.Schemas() {
			_ = s.Attribute("costCenter")
		}
		_ = reg.Schema(acmeURN)
		return nil
	}

	var wg, started sync.WaitGroup
	started.Add(readers)
	stop := make(chan struct{})
	for range readers {
		wg.Go(func() {
			err := read()
			started.Done()
			for err == nil {
				select {
				case <-stop:
					return
				default:
					err = read()
				}
			}
			t.Error(err)
		})
	}

	started.Wait() // every reader is under way
	if err := reg.AddExtension("User", acme, false); err != nil {
		t.Error(err)
	}
	// The same, now shared, schema again: AddExtension checks it while
	// readers use it through User.
	if err := reg.AddExtension("Group", acme, false); err != nil {
		t.Error(err)
	}
	for i := range extensions {
		s := &schema.Schema{
			ID:         fmt.Sprintf("urn:example:ext:%d", i),
			Attributes: []*schema.Attribute{{Name: fmt.Sprintf("field%d", i)}},
		}
		if err := reg.AddExtension("User", s, i%2 == 0); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()

	if got, want := len(reg.ResourceType("User").Extensions), 2+extensions; got != want {
		t.Errorf("User has %d extensions, want %d", got, want)
	}
}
