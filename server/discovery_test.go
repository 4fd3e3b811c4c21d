package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/server"
)

// rfcAttr is an attribute of one of the schemas RFC 7643 gives the
// discovery resources (§8.7.2, with the text of §5 to §7), written out here
// and not taken from package schema, so that the server's documents are
// checked against the RFC rather than against themselves.
type rfcAttr struct {
	name      string
	typ       schema.Type // string, boolean, integer, reference or complex
	multi     bool
	required  bool
	canonical []string // the only values allowed, when set
	subs      []rfcAttr
}

func rfcString(name string, required bool, canonical ...string) rfcAttr {
	return rfcAttr{name: name, typ: schema.String, required: required, canonical: canonical}
}

func rfcBool(name string, required bool) rfcAttr {
	return rfcAttr{name: name, typ: schema.Boolean, required: required}
}

func rfcInt(name string, required bool) rfcAttr {
	return rfcAttr{name: name, typ: schema.Integer, required: required}
}

func rfcRef(name string, required bool) rfcAttr {
	return rfcAttr{name: name, typ: schema.Reference, required: required}
}

func rfcComplex(name string, multi, required bool, subs ...rfcAttr) rfcAttr {
	return rfcAttr{name: name, typ: schema.Complex, multi: multi, required: required, subs: subs}
}

func rfcSupported(name string, more ...rfcAttr) rfcAttr {
	return rfcComplex(name, false, true, append([]rfcAttr{rfcBool("supported", true)}, more...)...)
}

// rfcServiceProviderConfig is the ServiceProviderConfig schema of RFC 7643
// §8.7.2, with the type and primary of an authentication scheme that §5
// and the example of §8.5 give, and the pagination block of RFC 9865 §5.
var rfcServiceProviderConfig = []rfcAttr{
	rfcRef("documentationUri", false),
	rfcSupported("patch"),
	rfcSupported("bulk", rfcInt("maxOperations", true), rfcInt("maxPayloadSize", true)),
	rfcSupported("filter", rfcInt("maxResults", true)),
	rfcSupported("changePassword"),
	rfcSupported("sort"),
	rfcSupported("etag"),
	rfcComplex("authenticationSchemes", true, true,
		rfcString("type", true, "oauth", "oauth2", "oauthbearertoken", "httpbasic", "httpdigest"),
		rfcString("name", true), rfcString("description", true),
		rfcRef("specUri", false), rfcRef("documentationUri", false), rfcBool("primary", false)),
	rfcComplex("pagination", false, false,
		rfcBool("cursor", true), rfcBool("index", true), rfcString("defaultPaginationMethod", false, "cursor", "index"),
		rfcInt("defaultPageSize", false), rfcInt("maxPageSize", false), rfcInt("cursorTimeout", false)),
}

// rfcResourceType is the ResourceType schema of RFC 7643 §8.7.2.
// schemaExtensions is multi-valued, as §6 and the example of §8.6 have it
// (§8.7.2 says "multiValued": false, an erratum).
var rfcResourceType = []rfcAttr{
	rfcString("id", false),
	rfcString("name", true),
	rfcString("description", false),
	rfcRef("endpoint", true),
	rfcRef("schema", true),
	rfcComplex("schemaExtensions", true, false, rfcRef("schema", true), rfcBool("required", true)),
}

// rfcAttributeDefinition is an attribute's definition in a Schema (§7),
// without subAttributes, which holds definitions again.
var rfcAttributeDefinition = []rfcAttr{
	rfcString("name", true),
	rfcString("type", true, "string", "boolean", "decimal", "integer", "dateTime", "binary", "reference", "complex"),
	rfcBool("multiValued", true),
	rfcString("description", false),
	rfcBool("required", false),
	{name: "canonicalValues", typ: schema.String, multi: true},
	rfcBool("caseExact", false),
	rfcString("mutability", false, "readOnly", "readWrite", "immutable", "writeOnly"),
	rfcString("returned", false, "always", "never", "default", "request"),
	rfcString("uniqueness", false, "none", "server", "global"),
	{name: "referenceTypes", typ: schema.String, multi: true},
}

// rfcSchema is the Schema schema of RFC 7643 §8.7.2.
var rfcSchema = []rfcAttr{
	rfcString("id", true),
	rfcString("name", true),
	rfcString("description", false),
	rfcComplex("attributes", true, true, append(slices.Clone(rfcAttributeDefinition),
		rfcComplex("subAttributes", true, false, rfcAttributeDefinition...))...),
}

// checker collects what a discovery document does that RFC 7643 does not
// allow, each problem with the path of the value.
type checker struct {
	t *testing.T
}

func (c checker) errorf(path, format string, args ...any) {
	c.t.Helper()
	c.t.Errorf("%s: %s", path, fmt.Sprintf(format, args...))
}

// object checks obj against attrs: required attributes are present and not
// null, values have their attribute's type, and nothing else is there but
// the names in also.
func (c checker) object(path string, obj map[string]any, attrs []rfcAttr, also ...string) {
	c.t.Helper()
	for _, a := range attrs {
		v, ok := obj[a.name]
		if !ok || v == nil {
			if a.required {
				c.errorf(path, "lacks %s, which is required", a.name)
			}
			continue
		}
		c.value(path+"."+a.name, v, a)
	}
	for k := range obj {
		if !slices.ContainsFunc(attrs, func(a rfcAttr) bool { return a.name == k }) && !slices.Contains(also, k) {
			c.errorf(path, "has %q, which the RFC does not define here", k)
		}
	}
}

func (c checker) value(path string, v any, a rfcAttr) {
	c.t.Helper()
	list, isList := v.([]any)
	switch {
	case a.multi && !isList:
		c.errorf(path, "is %s, want an array", kind(v))
		return
	case !a.multi && isList:
		c.errorf(path, "is an array, want a single %s", a.typ)
		return
	case !a.multi:
		list = []any{v}
	}
	for i, el := range list {
		p := path
		if a.multi {
			p = fmt.Sprintf("%s[%d]", path, i)
		}
		c.single(p, el, a)
	}
}

func (c checker) single(path string, v any, a rfcAttr) {
	c.t.Helper()
	switch a.typ {
	case schema.String, schema.Reference:
		s, ok := v.(string)
		if !ok {
			c.errorf(path, "is %s, want a string", kind(v))
			return
		}
		if a.canonical != nil && !slices.Contains(a.canonical, s) {
			c.errorf(path, "is %q, want one of %q", s, a.canonical)
		}
		if a.typ == schema.Reference {
			if _, err := url.Parse(s); err != nil || s == "" {
				c.errorf(path, "is %q, not a URI", s)
			}
		}
	case schema.Boolean:
		if _, ok := v.(bool); !ok {
			c.errorf(path, "is %s, want a boolean", kind(v))
		}
	case schema.Integer:
		n, ok := v.(json.Number)
		if _, err := n.Int64(); !ok || err != nil {
			c.errorf(path, "is %s, want an integer", kind(v))
		}
	case schema.Complex:
		m, ok := v.(map[string]any)
		if !ok {
			c.errorf(path, "is %s, want an object", kind(v))
			return
		}
		c.object(path, m, a.subs)
	}
}

// kind describes a decoded JSON value for messages.
func kind(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", v)
	case json.Number:
		return "the number " + v.String()
	case bool:
		return fmt.Sprint("the boolean ", v)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}

// resource checks a discovery resource: its schemas are exactly [urn], its
// attributes follow attrs, and its meta (RFC 7643 §3.1) names resourceType
// and the URL it is served at, location, which serves the same document.
func (c checker) resource(a *api, path string, doc map[string]any, urn string, attrs []rfcAttr, resourceType, location string) {
	c.t.Helper()
	if s, _ := doc["schemas"].([]any); !slices.Equal(s, []any{urn}) {
		c.errorf(path, "schemas is %v, want [%q]", doc["schemas"], urn)
	}
	c.object(path, doc, attrs, "schemas", "meta")
	meta, ok := doc["meta"].(map[string]any)
	if !ok {
		c.errorf(path, "has no meta object")
		return
	}
	c.object(path+".meta", meta, []rfcAttr{
		rfcString("resourceType", true, resourceType), rfcRef("location", true),
		{name: "created", typ: schema.String}, {name: "lastModified", typ: schema.String}, rfcString("version", false),
	})
	for _, k := range []string{"created", "lastModified"} {
		if s, ok := meta[k].(string); ok {
			if _, err := schema.ParseDateTime(s); err != nil {
				c.errorf(path+".meta."+k, "is %q, not a dateTime", s)
			}
		}
	}
	if meta["location"] != location {
		c.errorf(path+".meta.location", "is %v, want %s", meta["location"], location)
		return
	}
	if again := a.must(c.t, http.StatusOK, http.MethodGet, location, nil); !jsonEqual(again, doc) {
		c.errorf(path, "differs from what its meta.location %s serves", location)
	}
}

// definitions checks what RFC 7643 §2 and §7 say of attribute definitions
// beyond their types: names are unique within their parent, complex
// attributes and only they have subAttributes (never nested deeper than
// one level), and only reference attributes have referenceTypes.
func (c checker) definitions(path string, defs []any, sub bool) {
	c.t.Helper()
	seen := map[string]bool{}
	for i, d := range defs {
		def, _ := d.(map[string]any)
		name, _ := def["name"].(string)
		p := fmt.Sprintf("%s[%d] (%s)", path, i, name)
		if seen[strings.ToLower(name)] {
			c.errorf(p, "repeats the name %q", name)
		}
		seen[strings.ToLower(name)] = true
		subs, hasSubs := def["subAttributes"].([]any)
		switch {
		case def["type"] == "complex" && len(subs) == 0:
			c.errorf(p, "is complex without subAttributes")
		case def["type"] != "complex" && hasSubs:
			c.errorf(p, "is %v with subAttributes", def["type"])
		case def["type"] == "complex" && sub:
			c.errorf(p, "is a complex sub-attribute")
		}
		if _, has := def["referenceTypes"]; has && def["type"] != "reference" {
			c.errorf(p, "is %v with referenceTypes, which only a reference has", def["type"])
		}
		c.definitions(p+".subAttributes", subs, true)
	}
}

// TestDiscoveryFollowsRFC7643 checks /ServiceProviderConfig, /ResourceTypes
// and /Schemas against RFC 7643 §5 to §7 (issue 11, item 10: an
// independent suite rejected the ServiceProviderConfig): required
// attributes, types, canonical values, meta, and that every schema a
// resource type names is served. The registry has a custom extension, as
// a deployment may, parsed from a document that leaves characteristics to
// their defaults.
func TestDiscoveryFollowsRFC7643(t *testing.T) {
	forEachStore(t, func(t *testing.T) {
		reg := schema.NewRegistry()
		ext, err := schema.Parse([]byte(`{"id":"urn:example:params:scim:schemas:extension:acme:2.0:User","name":"AcmeUser",
			"attributes":[{"name":"badge","type":"string"},{"name":"homepage","type":"reference","referenceTypes":["external"]},
			{"name":"desk","type":"complex","subAttributes":[{"name":"building","type":"string"},{"name":"floor","type":"integer"}]}]}`))
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.AddExtension("User", ext, false); err != nil {
			t.Fatal(err)
		}
		withToken := newAPI(t, server.Config{Registry: reg})
		a := withToken.withToken("") // discovery needs no token
		c := checker{t}

		spc := a.must(t, http.StatusOK, http.MethodGet, "/ServiceProviderConfig", nil)
		c.resource(a, "/ServiceProviderConfig", spc, schema.ServiceProviderConfigURN, rfcServiceProviderConfig,
			"ServiceProviderConfig", a.base+"/ServiceProviderConfig")
		// The schemes advertised are those the server takes: a bearer
		// token, and HTTP Basic with the directory and a token (Okta).
		var types []string
		schemes, _ := spc["authenticationSchemes"].([]any)
		for _, s := range schemes {
			types = append(types, fmt.Sprint(at(s, "type")))
		}
		if !slices.Contains(types, "oauthbearertoken") || !slices.Contains(types, "httpbasic") {
			t.Errorf("authenticationSchemes are of types %v, want oauthbearertoken and httpbasic, which the server takes", types)
		}

		r := a.do(t, http.MethodGet, "/ResourceTypes", nil)
		_, rts := checkList(t, r, r.must(t, http.StatusOK))
		named := map[string]bool{}
		for i, rt := range rts {
			path := fmt.Sprintf("/ResourceTypes Resources[%d]", i)
			c.resource(a, path, rt, schema.ResourceTypeURN, rfcResourceType, "ResourceType", a.base+"/ResourceTypes/"+fmt.Sprint(rt["id"]))
			if ep, _ := rt["endpoint"].(string); !strings.HasPrefix(ep, "/") {
				c.errorf(path+".endpoint", "is %q, want a path relative to the base URL", ep)
			} else {
				withToken.must(t, http.StatusOK, http.MethodGet, ep+query("count", "0"), nil)
			}
			named[fmt.Sprint(rt["schema"])] = true
			exts, _ := rt["schemaExtensions"].([]any)
			for _, e := range exts {
				named[fmt.Sprint(at(e, "schema"))] = true
			}
		}

		r = a.do(t, http.MethodGet, "/Schemas", nil)
		_, schemas := checkList(t, r, r.must(t, http.StatusOK))
		served := map[string]bool{}
		for i, s := range schemas {
			id := fmt.Sprint(s["id"])
			path := fmt.Sprintf("/Schemas Resources[%d] (%s)", i, id)
			if served[id] {
				c.errorf(path, "is listed twice")
			}
			served[id] = true
			c.resource(a, path, s, schema.SchemaURN, rfcSchema, "Schema", a.base+"/Schemas/"+id)
			defs, _ := s["attributes"].([]any)
			c.definitions(path+".attributes", defs, false)
		}
		for urn := range named {
			if !served[urn] {
				t.Errorf("a resource type names the schema %s, which /Schemas does not list", urn)
			}
		}
		if !named[ext.ID] || !served[ext.ID] {
			t.Errorf("the custom extension %s is not named by /ResourceTypes and served by /Schemas", ext.ID)
		}
	})
}
