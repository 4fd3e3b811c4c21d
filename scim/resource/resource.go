package resource

import (
	"reflect"
	"time"

	"github.com/rosterhq/roster/scim/schema"
)

// Resource is a SCIM resource of a known type.
type Resource struct {
	// Type is the resource type whose schemas the attributes follow.
	Type *schema.ResourceType
	// Attrs is the attribute tree, in the form the package documentation
	// describes. Code that changes it directly must keep that form.
	Attrs map[string]any
}

// New returns an empty resource of type rt.
func New(rt *schema.ResourceType) *Resource {
	return &Resource{Type: rt, Attrs: map[string]any{}}
}

// ID returns the resource's id, or "" if it has none yet.
func (r *Resource) ID() string { s, _ := r.Attrs["id"].(string); return s }

// SetID sets the resource's id.
func (r *Resource) SetID(id string) { r.Attrs["id"] = id }

// ExternalID returns the resource's externalId, or "".
func (r *Resource) ExternalID() string { s, _ := r.Attrs["externalId"].(string); return s }

// Meta is the resource's metadata (RFC 7643 §3.1).
type Meta struct {
	ResourceType string
	Created      time.Time
	LastModified time.Time
	Location     string
	// Version is the resource's entity tag as meta.version shows it, such
	// as W/"3".
	Version string
}

// Meta returns the resource's metadata; fields it lacks are zero.
func (r *Resource) Meta() Meta {
	m, _ := r.Attrs["meta"].(map[string]any)
	str := func(k string) string { s, _ := m[k].(string); return s }
	tm := func(k string) time.Time { t, _ := schema.ParseDateTime(str(k)); return t }
	return Meta{
		ResourceType: str("resourceType"),
		Created:      tm("created"),
		LastModified: tm("lastModified"),
		Location:     str("location"),
		Version:      str("version"),
	}
}

// Version returns meta.version, as Meta().Version does without reading
// the times.
func (r *Resource) Version() string {
	m, _ := r.Attrs["meta"].(map[string]any)
	v, _ := m["version"].(string)
	return v
}

// SetLocation sets meta.location, leaving the rest of meta as it is.
func (r *Resource) SetLocation(location string) {
	m, ok := r.Attrs["meta"].(map[string]any)
	if !ok {
		r.SetMeta(Meta{Location: location})
		return
	}
	m["location"] = location
}

// SetMeta replaces the resource's metadata. Zero fields are left out;
// an empty ResourceType is filled from the resource's type.
func (r *Resource) SetMeta(m Meta) {
	out := map[string]any{}
	if m.ResourceType == "" && r.Type != nil {
		m.ResourceType = r.Type.Name
	}
	if m.ResourceType != "" {
		out["resourceType"] = m.ResourceType
	}
	if !m.Created.IsZero() {
		out["created"] = m.Created.UTC().Format(time.RFC3339Nano)
	}
	if !m.LastModified.IsZero() {
		out["lastModified"] = m.LastModified.UTC().Format(time.RFC3339Nano)
	}
	if m.Location != "" {
		out["location"] = m.Location
	}
	if m.Version != "" {
		out["version"] = m.Version
	}
	r.Attrs["meta"] = out
}

// Get returns the value ref selects: an attribute's value, a
// sub-attribute's value (a list of them for a multi-valued attribute), or
// a whole extension object. ok is false when there is none.
func (r *Resource) Get(ref schema.Ref) (v any, ok bool) {
	container := r.Attrs
	if ref.Extension != "" {
		m, _ := r.Attrs[ref.Extension].(map[string]any)
		if ref.Attr == nil {
			return m, m != nil
		}
		container = m
	}
	v, ok = container[ref.Attr.Name]
	if !ok || ref.Sub == nil {
		return v, ok
	}
	switch v := v.(type) {
	case map[string]any:
		s, ok := v[ref.Sub.Name]
		return s, ok
	case []any:
		var out []any
		for _, el := range v {
			if m, ok := el.(map[string]any); ok {
				if s, ok := m[ref.Sub.Name]; ok {
					out = append(out, s)
				}
			}
		}
		return out, len(out) > 0
	}
	return nil, false
}

// Container returns the map holding the attributes of ref's schema: the
// resource's own map, or its extension object, created if create is true.
func (r *Resource) Container(ref schema.Ref, create bool) map[string]any {
	if ref.Extension == "" {
		return r.Attrs
	}
	m, _ := r.Attrs[ref.Extension].(map[string]any)
	if m == nil && create {
		m = map[string]any{}
		r.Attrs[ref.Extension] = m
	}
	return m
}

// Clone returns a deep copy of r.
func (r *Resource) Clone() *Resource {
	return &Resource{Type: r.Type, Attrs: CloneValue(r.Attrs).(map[string]any)}
}

// CloneValue returns a deep copy of an attribute value.
func CloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, el := range v {
			out[k] = CloneValue(el)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, el := range v {
			out[i] = CloneValue(el)
		}
		return out
	}
	return v
}

// Schemas returns the URNs for the resource's "schemas" attribute: the core
// schema and each extension the resource has values for.
func (r *Resource) Schemas() []string {
	urns := []string{r.Type.Schema.ID}
	for _, e := range r.Type.Extensions {
		if m, ok := r.Attrs[e.Schema.ID].(map[string]any); ok && len(m) > 0 {
			urns = append(urns, e.Schema.ID)
		}
	}
	return urns
}

// Equal reports whether two values in the package's form (string, bool,
// int64, float64, map[string]any, []any, or nil) are the same: what
// reflect.DeepEqual reports of them, without reflection.
func Equal(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case string:
		b, ok := b.(string)
		return ok && a == b
	case bool:
		b, ok := b.(bool)
		return ok && a == b
	case int64:
		b, ok := b.(int64)
		return ok && a == b
	case float64:
		b, ok := b.(float64)
		return ok && a == b
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !Equal(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
