package filter

import (
	"strings"
	"time"

	"github.com/rosterhq/roster/scim/schema"
)

// Match reports whether the resource attributes in data match e.
//
// data is a resource in the form package resource holds it: core and common
// attributes under their names, extension attributes in an object under the
// extension's URN, complex values as map[string]any, multi-valued ones as
// []any, and primitive values as string, bool, int64 or float64 (dateTime
// values as strings). e should have been parsed against the resource's type,
// so that names are canonical and caseExact is known; paths of an unresolved
// e are looked up case-insensitively and their strings compared
// case-insensitively.
func Match(e Expr, data map[string]any) bool {
	return match(e, data, nil)
}

// MatchValue reports whether one value of a multi-valued complex attribute,
// or the value of a single-valued one, matches the filter of a value path
// (the part between the brackets). PATCH uses it to select values.
func MatchValue(e Expr, value map[string]any) bool {
	return match(e, nil, value)
}

// match evaluates e against the resource data or, inside a value path,
// against the single complex value elem.
func match(e Expr, data, elem map[string]any) bool {
	switch e := e.(type) {
	case *And:
		return match(e.Left, data, elem) && match(e.Right, data, elem)
	case *Or:
		return match(e.Left, data, elem) || match(e.Right, data, elem)
	case *Not:
		return !match(e.X, data, elem)
	case *ValuePath:
		found := false
		eachValue(lookupAttr(data, e.Attr), func(v any) bool {
			if m, ok := v.(map[string]any); ok && match(e.Filter, nil, m) {
				found = true
				return false
			}
			return true
		})
		return found
	case *Compare:
		var v any
		if elem != nil {
			v = get(elem, e.Attr.Name, e.Attr.Resolved())
		} else if e.Attr.IsSchemas() {
			v = schemasOf(data, e.Attr.Ref.Attr.CanonicalValues)
		} else {
			v = lookupAttr(data, e.Attr)
			if e.Attr.Sub != "" {
				v = subValues(v, e.Attr.Sub, e.Attr.Resolved())
			}
		}
		var attr *schema.Attribute
		if e.Attr.Resolved() {
			attr = e.Attr.Ref.Leaf()
		}
		return compare(attr, e.Op, v, e.Value)
	}
	return false
}

// schemasOf returns the "schemas" of a resource of a type whose schema
// URNs are urns: the core schema's, then those of the extensions data has
// values for.
func schemasOf(data map[string]any, urns []string) []any {
	out := []any{urns[0]}
	for _, urn := range urns[1:] {
		if m, ok := data[urn].(map[string]any); ok && len(m) > 0 {
			out = append(out, urn)
		}
	}
	return out
}

// lookupAttr returns the value of the attribute p names (not its
// sub-attribute) in data.
func lookupAttr(data map[string]any, p AttrPath) any {
	if data == nil {
		return nil
	}
	resolved := p.Resolved()
	container := data
	switch {
	case resolved && p.Ref.Extension != "":
		m, _ := data[p.Ref.Extension].(map[string]any)
		container = m
	case !resolved && p.URN != "":
		if m, ok := get(data, p.URN, false).(map[string]any); ok {
			// An extension object; a core URN prefix leaves data as it is.
			container = m
		}
	}
	return get(container, p.Name, resolved)
}

// get returns m[name], matching name case-insensitively unless exact.
func get(m map[string]any, name string, exact bool) any {
	if m == nil {
		return nil
	}
	if v, ok := m[name]; ok || exact {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// subValues returns the sub-attribute sub of a complex value, or the list
// of them for a multi-valued attribute.
func subValues(v any, sub string, exact bool) any {
	switch v := v.(type) {
	case map[string]any:
		return get(v, sub, exact)
	case []any:
		out := make([]any, 0, len(v))
		for _, el := range v {
			if m, ok := el.(map[string]any); ok {
				if s := get(m, sub, exact); s != nil {
					out = append(out, s)
				}
			}
		}
		return out
	}
	return nil
}

// eachValue calls f for v itself or, when v is a list, for each element,
// until f returns false.
func eachValue(v any, f func(any) bool) {
	if list, ok := v.([]any); ok {
		for _, el := range list {
			if !f(el) {
				return
			}
		}
		return
	}
	if v != nil {
		f(v)
	}
}

// Present reports whether v counts as a value for pr: not null, not an
// empty string, list or object.
func Present(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		for _, el := range v {
			if Present(el) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, el := range v {
			if Present(el) {
				return true
			}
		}
		return false
	}
	return true
}

func compare(attr *schema.Attribute, op Op, v, lit any) bool {
	switch op {
	case Pr:
		return Present(v)
	case Ne:
		return !compare(attr, Eq, v, lit)
	}
	if lit == nil { // eq null
		return !Present(v)
	}
	found := false
	eachValue(v, func(el any) bool {
		found = compareOne(attr, op, el, lit)
		return !found
	})
	return found
}

// compareOne compares one primitive value with a literal.
func compareOne(attr *schema.Attribute, op Op, v, lit any) bool {
	if s, ok := v.(string); ok && (op == Co || op == Sw || op == Ew) {
		l, _ := lit.(string)
		if attr == nil || !attr.CaseExact {
			s, l = strings.ToLower(s), strings.ToLower(l)
		}
		switch op {
		case Co:
			return strings.Contains(s, l)
		case Sw:
			return strings.HasPrefix(s, l)
		}
		return strings.HasSuffix(s, l)
	}
	if s, ok := v.(string); ok && op == Eq && (attr == nil || attr.Type != schema.DateTime) {
		l, ok := lit.(string)
		return ok && (s == l || (attr == nil || !attr.CaseExact) && strings.EqualFold(s, l))
	}
	if _, ok := lit.(bool); ok && op != Eq {
		return false
	}
	c, ok := schema.Compare(attr, v, lit)
	return ok && ordered(op, c)
}

// ordered applies an ordering operator to the result of a three-way
// comparison.
func ordered(op Op, c int) bool {
	switch op {
	case Eq:
		return c == 0
	case Gt:
		return c > 0
	case Ge:
		return c >= 0
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	}
	return false
}

// Equality returns the value a filter made only of eq comparisons joined
// by and describes, in the form of package resource: for the value filter
// [type eq "work" and primary eq true] it is {"type": "work", "primary":
// true}. ok is false for any other filter. PATCH uses it to add the value
// a filter that matched nothing describes; a store can use it to answer
// members[value eq "id"] through an index.
func Equality(e Expr) (value map[string]any, ok bool) {
	value = map[string]any{}
	return value, equality(e, value)
}

func equality(e Expr, into map[string]any) bool {
	switch e := e.(type) {
	case *And:
		return equality(e.Left, into) && equality(e.Right, into)
	case *Compare:
		if e.Op != Eq || e.Value == nil || e.Attr.URN != "" || e.Attr.Sub != "" {
			return false
		}
		v := e.Value
		if t, ok := v.(time.Time); ok {
			v = t.UTC().Format(time.RFC3339Nano)
		}
		into[e.Attr.Name] = v
		return true
	}
	return false
}
