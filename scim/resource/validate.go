package resource

import (
	"reflect"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
)

// Validate checks what must hold for a resource as a whole: required
// attributes are present (those the service provider assigns, readOnly
// ones, excepted) and no multi-valued attribute has more than one primary
// value. Errors are *scim.Error with status 400 and scimType invalidValue.
func (r *Resource) Validate() error {
	if err := validateAttrs(r.Attrs, r.Type.Schema.Attributes, ""); err != nil {
		return err
	}
	for _, e := range r.Type.Extensions {
		m, _ := r.Attrs[e.Schema.ID].(map[string]any)
		if m == nil {
			if e.Required {
				return invalidValue("the required extension %s is missing", e.Schema.ID)
			}
			continue
		}
		if err := validateAttrs(m, e.Schema.Attributes, e.Schema.ID+":"); err != nil {
			return err
		}
	}
	return nil
}

func validateAttrs(m map[string]any, attrs []*schema.Attribute, prefix string) error {
	for _, a := range attrs {
		v, ok := m[a.Name]
		if !ok || v == "" && a.Required {
			if a.Required && a.Mutability != schema.ReadOnly {
				return invalidValue("the required attribute %s%s is missing or empty", prefix, a.Name)
			}
			continue
		}
		var required []*schema.Attribute
		for _, s := range a.SubAttributes {
			if s.Required && s.Mutability != schema.ReadOnly {
				required = append(required, s)
			}
		}
		if a.SubAttribute("primary") == nil && len(required) == 0 {
			// Nothing to check per value: members of a big group are not walked.
			continue
		}
		values, _ := v.([]any)
		if !a.MultiValued {
			values = []any{v}
		}
		primaries := 0
		for _, el := range values {
			el, _ := el.(map[string]any)
			if p, _ := el["primary"].(bool); p {
				primaries++
			}
			for _, s := range required {
				if _, ok := el[s.Name]; !ok {
					return invalidValue("the required sub-attribute %s%s.%s is missing", prefix, a.Name, s.Name)
				}
			}
		}
		if primaries > 1 {
			return invalidValue("%s%s has %d values marked primary; at most one may be", prefix, a.Name, primaries)
		}
	}
	return nil
}

// Replace returns the resource that a PUT of incoming makes of old
// (RFC 7644 §3.5.1): incoming's attributes, with old's readOnly attributes
// (id, meta, groups) kept, and old's writeOnly attributes (password) kept
// when incoming does not set them, since a client cannot read them back.
// An immutable attribute that old has must keep its value, or Replace
// returns a 400 mutability error.
func Replace(old, incoming *Resource) (*Resource, error) {
	out := incoming.Clone()
	if err := replaceAttrs(old.Attrs, out.Attrs, old.Type.Schema.Attributes, ""); err != nil {
		return nil, err
	}
	if err := replaceAttrs(old.Attrs, out.Attrs, schema.CommonAttributes(), ""); err != nil {
		return nil, err
	}
	for _, e := range old.Type.Extensions {
		om, _ := old.Attrs[e.Schema.ID].(map[string]any)
		if om == nil {
			continue
		}
		nm, _ := out.Attrs[e.Schema.ID].(map[string]any)
		if nm == nil {
			nm = map[string]any{}
		}
		if err := replaceAttrs(om, nm, e.Schema.Attributes, e.Schema.ID+":"); err != nil {
			return nil, err
		}
		setOrDelete(out.Attrs, e.Schema.ID, nm)
	}
	return out, nil
}

func replaceAttrs(old, out map[string]any, attrs []*schema.Attribute, prefix string) error {
	for _, a := range attrs {
		ov, had := old[a.Name]
		if !had {
			continue
		}
		nv, has := out[a.Name]
		switch a.Mutability {
		case schema.ReadOnly:
			out[a.Name] = CloneValue(ov)
		case schema.WriteOnly:
			if !has {
				out[a.Name] = CloneValue(ov)
			}
		case schema.Immutable:
			if !has {
				out[a.Name] = CloneValue(ov)
			} else if !reflect.DeepEqual(ov, nv) {
				return scim.BadRequest(scim.Mutability, "%s%s is immutable and already has a value; it cannot be changed", prefix, a.Name)
			}
		default:
			if a.Type == schema.Complex && !a.MultiValued && has {
				om, _ := ov.(map[string]any)
				nm, _ := nv.(map[string]any)
				if err := replaceAttrs(om, nm, a.SubAttributes, prefix+a.Name+"."); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
