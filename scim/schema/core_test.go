package schema

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func cloneAttrs(attrs []*Attribute) []*Attribute {
	out := make([]*Attribute, len(attrs))
	for i, a := range attrs {
		c := *a
		c.SubAttributes = cloneAttrs(a.SubAttributes)
		c.CanonicalValues = append([]string(nil), a.CanonicalValues...)
		c.ReferenceTypes = append([]string(nil), a.ReferenceTypes...)
		out[i] = &c
	}
	return out
}

func coreSchemas() map[string]func() *Schema {
	return map[string]func() *Schema{
		"User":           UserSchema,
		"Group":          GroupSchema,
		"EnterpriseUser": EnterpriseUserSchema,
		"common": func() *Schema {
			return &Schema{ID: "urn:test:common", Attributes: cloneAttrs(CommonAttributes())}
		},
	}
}

func TestCoreSchemasAreNormalized(t *testing.T) {
	for name, build := range coreSchemas() {
		t.Run(name, func(t *testing.T) {
			want, got := build(), build()
			if err := got.normalize(); err != nil {
				t.Fatalf("normalize: %v", err)
			}
			if !reflect.DeepEqual(want, got) {
				t.Error("normalize changed the schema; every characteristic should be spelled out")
			}
			var walk func(prefix string, attrs []*Attribute)
			walk = func(prefix string, attrs []*Attribute) {
				for _, a := range attrs {
					if a.Description == "" {
						t.Errorf("%s%s has no description", prefix, a.Name)
					}
					if a.Type == Complex && len(a.SubAttributes) == 0 {
						t.Errorf("complex attribute %s%s has no sub-attributes", prefix, a.Name)
					}
					walk(prefix+a.Name+".", a.SubAttributes)
				}
			}
			walk("", want.Attributes)
		})
	}
}

func TestCoreSchemasAreFreshCopies(t *testing.T) {
	a, b := UserSchema(), UserSchema()
	if a == b || a.Attribute("emails") == b.Attribute("emails") {
		t.Error("UserSchema returned shared data")
	}
	if &CommonAttributes()[0] != &CommonAttributes()[0] {
		t.Error("CommonAttributes and commonAttrs return different slices")
	}
}

// characteristics renders the characteristics of a that RFC 7643 §7 defines.
func characteristics(a *Attribute) string {
	s := fmt.Sprintf("%s mv=%t req=%t exact=%t %s %s %s", a.Type, a.MultiValued, a.Required, a.CaseExact,
		a.Mutability, a.Returned, a.Uniqueness)
	if a.CanonicalValues != nil {
		s += " canon=" + strings.Join(a.CanonicalValues, ",")
	}
	if a.ReferenceTypes != nil {
		s += " refs=" + strings.Join(a.ReferenceTypes, ",")
	}
	return s
}

// TestCoreCharacteristics spot-checks characteristics against RFC 7643
// §8.7.1 (and §3.1 for the common attributes).
func TestCoreCharacteristics(t *testing.T) {
	user, group, ent := UserSchema(), GroupSchema(), EnterpriseUserSchema()
	common := &Schema{Attributes: CommonAttributes()}
	tests := []struct {
		s    *Schema
		path string
		want string
	}{
		{user, "userName", "string mv=false req=true exact=false readWrite default server"},
		{user, "password", "string mv=false req=false exact=false writeOnly never none"},
		{user, "profileUrl", "reference mv=false req=false exact=false readWrite default none refs=external"},
		{user, "active", "boolean mv=false req=false exact=false readWrite default none"},
		{user, "name.familyName", "string mv=false req=false exact=false readWrite default none"},
		{user, "emails", "complex mv=true req=false exact=false readWrite default none"},
		{user, "emails.type", "string mv=false req=false exact=false readWrite default none canon=work,home,other"},
		{user, "emails.display", "string mv=false req=false exact=false readWrite default none"},
		{user, "emails.primary", "boolean mv=false req=false exact=false readWrite default none"},
		{user, "phoneNumbers.type", "string mv=false req=false exact=false readWrite default none canon=work,home,mobile,fax,pager,other"},
		{user, "ims.type", "string mv=false req=false exact=false readWrite default none canon=aim,gtalk,icq,xmpp,msn,skype,qq,yahoo"},
		{user, "photos.value", "reference mv=false req=false exact=false readWrite default none refs=external"},
		{user, "photos.type", "string mv=false req=false exact=false readWrite default none canon=photo,thumbnail"},
		{user, "addresses.type", "string mv=false req=false exact=false readWrite default none canon=work,home,other"},
		{user, "groups", "complex mv=true req=false exact=false readOnly default none"},
		{user, "groups.$ref", "reference mv=false req=false exact=false readOnly default none refs=User,Group"},
		{user, "groups.type", "string mv=false req=false exact=false readOnly default none canon=direct,indirect"},
		{user, "entitlements.type", "string mv=false req=false exact=false readWrite default none"},
		{user, "x509Certificates.value", "binary mv=false req=false exact=false readWrite default none"},
		{group, "displayName", "string mv=false req=true exact=false readWrite default none"},
		{group, "members", "complex mv=true req=false exact=false readWrite default none"},
		{group, "members.value", "string mv=false req=false exact=false immutable default none"},
		{group, "members.$ref", "reference mv=false req=false exact=false immutable default none refs=User,Group"},
		{group, "members.type", "string mv=false req=false exact=false immutable default none canon=User,Group"},
		{ent, "employeeNumber", "string mv=false req=false exact=false readWrite default none"},
		{ent, "manager", "complex mv=false req=false exact=false readWrite default none"},
		{ent, "manager.$ref", "reference mv=false req=false exact=false readWrite default none refs=User"},
		{ent, "manager.displayName", "string mv=false req=false exact=false readOnly default none"},
		{common, "id", "string mv=false req=false exact=true readOnly always server"},
		{common, "externalId", "string mv=false req=false exact=true readWrite default none"},
		{common, "meta", "complex mv=false req=false exact=false readOnly default none"},
		{common, "meta.resourceType", "string mv=false req=false exact=true readOnly default none"},
		{common, "meta.lastModified", "dateTime mv=false req=false exact=false readOnly default none"},
		{common, "meta.location", "reference mv=false req=false exact=true readOnly default none refs=uri"},
		{common, "meta.version", "string mv=false req=false exact=true readOnly default none"},
	}
	for _, tt := range tests {
		name, sub, _ := strings.Cut(tt.path, ".")
		a := tt.s.Attribute(name)
		if a != nil && sub != "" {
			a = a.SubAttribute(sub)
		}
		if a == nil {
			t.Errorf("%s: not found", tt.path)
			continue
		}
		if got := characteristics(a); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.path, got, tt.want)
		}
	}
}

func TestCoreSubAttributeNames(t *testing.T) {
	names := func(a *Attribute) string {
		var n []string
		for _, s := range a.SubAttributes {
			n = append(n, s.Name)
		}
		return strings.Join(n, ",")
	}
	user := UserSchema()
	tests := []struct {
		a    *Attribute
		want string
	}{
		{user.Attribute("name"), "formatted,familyName,givenName,middleName,honorificPrefix,honorificSuffix"},
		{user.Attribute("emails"), "value,display,type,primary"},
		{user.Attribute("addresses"), "formatted,streetAddress,locality,region,postalCode,country,type,primary"},
		{user.Attribute("groups"), "value,$ref,display,type"},
		{GroupSchema().Attribute("members"), "value,$ref,type,display"},
		{EnterpriseUserSchema().Attribute("manager"), "value,$ref,displayName"},
		{find(CommonAttributes(), "meta"), "resourceType,created,lastModified,location,version"},
	}
	for _, tt := range tests {
		if got := names(tt.a); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.a.Name, got, tt.want)
		}
	}
	var top []string
	for _, a := range user.Attributes {
		top = append(top, a.Name)
	}
	want := "userName,name,displayName,nickName,profileUrl,title,userType,preferredLanguage,locale,timezone,active,password," +
		"emails,phoneNumbers,ims,photos,addresses,groups,entitlements,roles,x509Certificates"
	if got := strings.Join(top, ","); got != want {
		t.Errorf("User attributes:\n got %s\nwant %s", got, want)
	}
}
