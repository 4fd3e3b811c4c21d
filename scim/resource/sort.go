package resource

import (
	"strings"

	"github.com/rosterhq/roster/scim/schema"
)

// SortValue returns the value a resource sorts by for sortBy (RFC 7644
// §3.4.2.3): the attribute's value or, for a multi-valued attribute, the
// primary value if any, else the first. For a multi-valued complex
// attribute named without a sub-attribute, its "value" sub-attribute is
// used. ok is false when the resource has no such value.
func SortValue(r *Resource, ref schema.Ref) (v any, ok bool) {
	if ref.Attr == nil {
		return nil, false
	}
	if ref.Attr.Type == schema.Complex && ref.Sub == nil {
		if ref.Sub = ref.Attr.SubAttribute("value"); ref.Sub == nil {
			return nil, false
		}
	}
	c := r.Container(ref, false)
	raw, ok := c[ref.Attr.Name]
	if !ok {
		return nil, false
	}
	if list, isList := raw.([]any); isList {
		if len(list) == 0 {
			return nil, false
		}
		raw = list[0]
		for _, el := range list {
			if m, _ := el.(map[string]any); m != nil {
				if p, _ := m["primary"].(bool); p {
					raw = el
					break
				}
			}
		}
	}
	if ref.Sub != nil {
		m, _ := raw.(map[string]any)
		raw, ok = m[ref.Sub.Name]
	}
	return raw, ok && raw != nil
}

// Compare orders a and b by the attribute ref names, ascending: strings
// case-insensitively unless caseExact, numbers and dateTimes by value,
// false before true. A resource without a value sorts after every resource
// with one, so descending order (the reverse) puts it first.
func Compare(a, b *Resource, ref schema.Ref) int {
	va, oka := SortValue(a, ref)
	vb, okb := SortValue(b, ref)
	switch {
	case !oka && !okb:
		return 0
	case !oka:
		return 1
	case !okb:
		return -1
	}
	leaf := ref.Leaf()
	if leaf.Type == schema.Complex {
		leaf = leaf.SubAttribute("value")
	}
	return CompareValues(leaf, va, vb)
}

// CompareValues compares two values of attr three-way, as sortBy orders
// them (see schema.Compare); strings equal but for case are then ordered
// exactly, so that the order is total and stable. Values that cannot be
// compared are equal.
func CompareValues(attr *schema.Attribute, a, b any) int {
	c, _ := schema.Compare(attr, a, b)
	if c == 0 && (attr == nil || attr.Type != schema.DateTime) {
		if sa, ok := a.(string); ok {
			if sb, ok := b.(string); ok {
				return strings.Compare(sa, sb)
			}
		}
	}
	return c
}
