package schema

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownAttribute is wrapped by the errors of Resolve and ResolveParts
// when a path names an attribute or schema the resource type does not have,
// so that callers can ignore unknown attributes instead of failing.
var ErrUnknownAttribute = errors.New("unknown attribute")

// Extension is a schema extension of a resource type (RFC 7643 §6).
type Extension struct {
	Schema   *Schema
	Required bool
}

// ResourceType is a kind of resource a service provider serves, such as
// User or Group: its endpoint, its core schema and its extensions
// (RFC 7643 §6). A ResourceType must not be modified once registered;
// Registry.AddExtension replaces it with a new one instead.
type ResourceType struct {
	ID          string
	Name        string
	Endpoint    string
	Description string
	Schema      *Schema
	Extensions  []Extension
}

// Document returns the representation of rt served at /ResourceTypes
// (RFC 7643 §6), ready for encoding/json. baseURL, when not empty, sets
// meta.location.
func (rt *ResourceType) Document(baseURL string) any {
	type ext struct {
		Schema   string `json:"schema"`
		Required bool   `json:"required"`
	}
	exts := make([]ext, len(rt.Extensions))
	for i, e := range rt.Extensions {
		exts[i] = ext{e.Schema.ID, e.Required}
	}
	return struct {
		Schemas          []string     `json:"schemas"`
		ID               string       `json:"id"`
		Name             string       `json:"name"`
		Endpoint         string       `json:"endpoint"`
		Description      string       `json:"description,omitempty"`
		Schema           string       `json:"schema"`
		SchemaExtensions []ext        `json:"schemaExtensions,omitempty"`
		Meta             documentMeta `json:"meta"`
	}{[]string{ResourceTypeURN}, rt.ID, rt.Name, rt.Endpoint, rt.Description, rt.Schema.ID, exts,
		newMeta("ResourceType", baseURL, "/ResourceTypes/"+rt.ID)}
}

// Extension returns the extension schema of rt whose URN is urn, compared
// case-insensitively, or nil.
func (rt *ResourceType) Extension(urn string) *Extension {
	for i := range rt.Extensions {
		if strings.EqualFold(rt.Extensions[i].Schema.ID, urn) {
			return &rt.Extensions[i]
		}
	}
	return nil
}

// SchemaURNs returns the URN of rt's core schema followed by those of its
// extensions.
func (rt *ResourceType) SchemaURNs() []string {
	urns := make([]string, 0, 1+len(rt.Extensions))
	urns = append(urns, rt.Schema.ID)
	for _, e := range rt.Extensions {
		urns = append(urns, e.Schema.ID)
	}
	return urns
}

// Ref is a resolved reference to an attribute of a resource type, possibly
// to one of its sub-attributes, or to a whole extension.
type Ref struct {
	// Extension is the URN of the extension schema that defines the
	// attribute, or "" for attributes of the core schema and the common
	// attributes id, externalId and meta. A resource holds an extension's
	// attributes in an object under this URN.
	Extension string
	// Attr is the attribute; nil when the reference names a whole extension.
	Attr *Attribute
	// Sub is the sub-attribute of a complex Attr, or nil.
	Sub *Attribute
}

// Leaf returns the attribute whose values the reference selects: Sub when
// set, Attr otherwise.
func (r Ref) Leaf() *Attribute {
	if r.Sub != nil {
		return r.Sub
	}
	return r.Attr
}

// String returns the reference in its canonical spelling, URN-qualified for
// extension attributes.
func (r Ref) String() string {
	var b strings.Builder
	if r.Extension != "" {
		b.WriteString(r.Extension)
		if r.Attr == nil {
			return b.String()
		}
		b.WriteByte(':')
	}
	b.WriteString(r.Attr.Name)
	if r.Sub != nil {
		b.WriteByte('.')
		b.WriteString(r.Sub.Name)
	}
	return b.String()
}

// Resolve resolves an attribute path as clients write it in attributes,
// sortBy and PATCH paths: "userName", "name.givenName", a URN-qualified
// "urn:ietf:params:scim:schemas:core:2.0:User:userName" or
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
// or a bare extension URN, which yields a Ref with a nil Attr.
// Names are compared case-insensitively.
func (rt *ResourceType) Resolve(path string) (Ref, error) {
	urn, rest, err := rt.SplitURN(path)
	if err != nil {
		return Ref{}, err
	}
	if urn != "" && rest == "" {
		if len(path) > len(urn) {
			return Ref{}, fmt.Errorf("%q ends with a colon but names no attribute", path)
		}
		if ext := rt.Extension(urn); ext != nil {
			return Ref{Extension: ext.Schema.ID}, nil
		}
		return Ref{}, fmt.Errorf("%q names the core schema, not an attribute", path)
	}
	name, sub, _ := strings.Cut(rest, ".")
	return rt.ResolveParts(urn, name, sub)
}

// SplitURN splits a URN-qualified path into the URN of one of rt's schemas
// and the rest after the colon. A path that does not start with "urn:" is
// returned whole as rest. The URN is the one rt knows, in its canonical case;
// as URNs contain colons, when several of rt's URNs start the path, the
// longest is the one.
func (rt *ResourceType) SplitURN(path string) (urn, rest string, err error) {
	if len(path) < 4 || !strings.EqualFold(path[:4], "urn:") {
		return "", path, nil
	}
	for _, id := range rt.SchemaURNs() {
		if len(id) > len(urn) && len(path) >= len(id) && strings.EqualFold(path[:len(id)], id) &&
			(len(path) == len(id) || path[len(id)] == ':') {
			urn = id
		}
	}
	switch {
	case urn == "":
		return "", "", fmt.Errorf("%w: unknown schema in %q for resource type %s", ErrUnknownAttribute, path, rt.Name)
	case len(path) == len(urn):
		return urn, "", nil
	}
	return urn, path[len(urn)+1:], nil
}

// ResolveParts resolves an attribute given its schema URN (may be empty),
// name and sub-attribute name (may be empty). An attribute without a URN is
// looked up among the common attributes, then the core schema, then the
// extensions.
func (rt *ResourceType) ResolveParts(urn, name, sub string) (Ref, error) {
	var ref Ref
	switch {
	case urn == "":
		if ref.Attr = find(CommonAttributes(), name); ref.Attr == nil {
			if ref.Attr = rt.Schema.Attribute(name); ref.Attr == nil {
				for _, e := range rt.Extensions {
					if a := e.Schema.Attribute(name); a != nil {
						ref = Ref{Extension: e.Schema.ID, Attr: a}
						break
					}
				}
			}
		}
	case strings.EqualFold(urn, rt.Schema.ID):
		if ref.Attr = rt.Schema.Attribute(name); ref.Attr == nil {
			ref.Attr = find(CommonAttributes(), name)
		}
	default:
		ext := rt.Extension(urn)
		if ext == nil {
			return Ref{}, fmt.Errorf("%w: unknown schema %q for resource type %s", ErrUnknownAttribute, urn, rt.Name)
		}
		ref = Ref{Extension: ext.Schema.ID, Attr: ext.Schema.Attribute(name)}
	}
	if ref.Attr == nil {
		return Ref{}, fmt.Errorf("%w %q", ErrUnknownAttribute, joinPath(urn, name, ""))
	}
	if sub != "" {
		if ref.Attr.Type != Complex {
			return Ref{}, fmt.Errorf("attribute %q has no sub-attributes", ref.Attr.Name)
		}
		if ref.Sub = ref.Attr.SubAttribute(sub); ref.Sub == nil {
			return Ref{}, fmt.Errorf("%w %q", ErrUnknownAttribute, joinPath(urn, name, sub))
		}
	}
	return ref, nil
}

func joinPath(urn, name, sub string) string {
	s := name
	if urn != "" {
		s = urn + ":" + name
	}
	if sub != "" {
		s += "." + sub
	}
	return s
}
