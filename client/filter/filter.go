// Package filter builds SCIM filter expressions (RFC 7644 §3.4.2.2) with
// their values correctly quoted and escaped:
//
//	filter.Eq("userName", name).And(filter.Eq("active", true)).String()
//	// userName eq "bjensen" and active eq true
//	filter.Has("emails", filter.Eq("type", "work").And(filter.Co("value", "@example.com"))).String()
//	// emails[type eq "work" and value co "@example.com"]
package filter

import (
	"strings"
	"time"

	scimfilter "github.com/rosterhq/roster/scim/filter"
)

// Filter is a filter expression. The zero Filter is empty: its String is
// "", and combining it with another gives the other.
type Filter struct {
	x scimfilter.Expr
}

// String returns the filter in SCIM syntax.
func (f Filter) String() string {
	if f.x == nil {
		return ""
	}
	return f.x.String()
}

// IsZero reports whether f is empty.
func (f Filter) IsZero() bool { return f.x == nil }

// And returns f and g.
func (f Filter) And(g Filter) Filter {
	switch {
	case f.x == nil:
		return g
	case g.x == nil:
		return f
	}
	return Filter{&scimfilter.And{Left: f.x, Right: g.x}}
}

// Or returns f or g.
func (f Filter) Or(g Filter) Filter {
	switch {
	case f.x == nil:
		return g
	case g.x == nil:
		return f
	}
	return Filter{&scimfilter.Or{Left: f.x, Right: g.x}}
}

// Not returns not (f).
func Not(f Filter) Filter {
	if f.x == nil {
		return f
	}
	return Filter{&scimfilter.Not{X: f.x}}
}

// All returns the filters joined with and.
func All(fs ...Filter) Filter {
	var out Filter
	for _, f := range fs {
		out = out.And(f)
	}
	return out
}

// Any returns the filters joined with or.
func Any(fs ...Filter) Filter {
	var out Filter
	for _, f := range fs {
		out = out.Or(f)
	}
	return out
}

// Eq returns path eq value. value is a string, a bool, an integer, a
// float, a time.Time or nil (null).
func Eq(path string, value any) Filter { return compare(path, scimfilter.Eq, value) }

// Ne returns path ne value.
func Ne(path string, value any) Filter { return compare(path, scimfilter.Ne, value) }

// Co returns path co value (contains).
func Co(path string, value string) Filter { return compare(path, scimfilter.Co, value) }

// Sw returns path sw value (starts with).
func Sw(path string, value string) Filter { return compare(path, scimfilter.Sw, value) }

// Ew returns path ew value (ends with).
func Ew(path string, value string) Filter { return compare(path, scimfilter.Ew, value) }

// Gt returns path gt value.
func Gt(path string, value any) Filter { return compare(path, scimfilter.Gt, value) }

// Ge returns path ge value.
func Ge(path string, value any) Filter { return compare(path, scimfilter.Ge, value) }

// Lt returns path lt value.
func Lt(path string, value any) Filter { return compare(path, scimfilter.Lt, value) }

// Le returns path le value.
func Le(path string, value any) Filter { return compare(path, scimfilter.Le, value) }

// Pr returns path pr (present).
func Pr(path string) Filter { return compare(path, scimfilter.Pr, nil) }

// Has returns attr[f]: some value of the complex attribute attr matches f,
// whose paths name attr's sub-attributes.
func Has(attr string, f Filter) Filter {
	if f.x == nil {
		return Pr(attr)
	}
	return Filter{&scimfilter.ValuePath{Attr: attrPath(attr), Filter: f.x}}
}

func compare(path string, op scimfilter.Op, value any) Filter {
	return Filter{&scimfilter.Compare{Attr: attrPath(path), Op: op, Value: literal(value)}}
}

// literal returns value in the form the filter AST holds literals.
func literal(v any) any {
	switch v := v.(type) {
	case nil, string, bool, int64, float64:
		return v
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case uint32:
		return int64(v)
	case float32:
		return float64(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case interface{ String() string }:
		return v.String()
	}
	return nil
}

// attrPath splits a path such as "name.familyName" or
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
// into its schema URN, name and sub-attribute.
func attrPath(path string) scimfilter.AttrPath {
	var p scimfilter.AttrPath
	if strings.HasPrefix(strings.ToLower(path), "urn:") {
		if i := strings.LastIndexByte(path, ':'); i >= 0 {
			p.URN, path = path[:i], path[i+1:]
		}
	}
	p.Name, p.Sub, _ = strings.Cut(path, ".")
	return p
}
