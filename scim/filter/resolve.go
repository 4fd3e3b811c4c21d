package filter

import (
	"fmt"
	"strings"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
)

// resolve returns a copy of e whose attribute paths are resolved against
// rt and whose literals are checked against (and converted to) the
// attributes' types. parent is the enclosing value path's attribute.
func resolve(e Expr, rt *schema.ResourceType, parent *schema.Ref) (Expr, error) {
	switch e := e.(type) {
	case *And:
		l, r, err := resolvePair(e.Left, e.Right, rt, parent)
		if err != nil {
			return nil, err
		}
		return &And{l, r}, nil
	case *Or:
		l, r, err := resolvePair(e.Left, e.Right, rt, parent)
		if err != nil {
			return nil, err
		}
		return &Or{l, r}, nil
	case *Not:
		x, err := resolve(e.X, rt, parent)
		if err != nil {
			return nil, err
		}
		return &Not{x}, nil
	case *ValuePath:
		path, err := resolvePath(e.Attr, rt, nil)
		if err != nil {
			return nil, err
		}
		if path.Ref.Attr.Type != schema.Complex || path.Ref.Sub != nil {
			return nil, invalid("%s is not a complex attribute, so it cannot take a [filter]", e.Attr)
		}
		inner, err := resolve(e.Filter, rt, &path.Ref)
		if err != nil {
			return nil, err
		}
		return &ValuePath{Attr: path, Filter: inner}, nil
	case *Compare:
		path, err := resolvePath(e.Attr, rt, parent)
		if sp, ok := schemasPath(e.Attr, rt); ok && err != nil && parent == nil {
			path, err = sp, nil
		}
		if err != nil {
			return nil, err
		}
		leaf := path.Ref.Leaf()
		if leaf.Type == schema.Complex {
			if e.Op == Pr {
				return &Compare{Attr: path, Op: Pr}, nil
			}
			// RFC 7644 §3.4.2.2: a complex attribute compared without a
			// sub-attribute means its "value" sub-attribute (emails co "x").
			v := leaf.SubAttribute("value")
			if v == nil {
				return nil, invalid("%s is complex and has no value sub-attribute; name a sub-attribute", e.Attr)
			}
			path.Ref.Sub = v
			path.Sub = v.Name
			leaf = v
		}
		value, err := checkLiteral(e, leaf)
		if err != nil {
			return nil, err
		}
		return &Compare{Attr: path, Op: e.Op, Value: value}, nil
	}
	return nil, invalid("unknown expression %T", e)
}

// resolvePair resolves the operands of a logical expression.
func resolvePair(left, right Expr, rt *schema.ResourceType, parent *schema.Ref) (Expr, Expr, error) {
	l, err := resolve(left, rt, parent)
	if err != nil {
		return nil, nil, err
	}
	r, err := resolve(right, rt, parent)
	return l, r, err
}

func invalid(format string, args ...any) error {
	return scim.BadRequest(scim.InvalidFilter, "invalid filter: %s", fmt.Sprintf(format, args...))
}

// wrap turns a resolution error into an invalidFilter error that keeps it as
// its cause.
func wrap(err error) error {
	e := scim.BadRequest(scim.InvalidFilter, "invalid filter: %v", err)
	e.Err = err
	return e
}

func resolvePath(p AttrPath, rt *schema.ResourceType, parent *schema.Ref) (AttrPath, error) {
	if parent != nil {
		sub := parent.Attr.SubAttribute(p.Name)
		if sub == nil {
			return p, wrap(fmt.Errorf("%w: %s has no sub-attribute %q", schema.ErrUnknownAttribute, parent.Attr.Name, p.Name))
		}
		return AttrPath{Name: sub.Name, Ref: schema.Ref{Extension: parent.Extension, Attr: parent.Attr, Sub: sub}}, nil
	}
	urn := p.URN
	if urn != "" {
		// Match the URN against rt's schemas, so that its case is
		// canonical and nothing is left between it and the name.
		var rest string
		var err error
		if urn, rest, err = rt.SplitURN(p.URN + ":" + p.Name); err != nil {
			return p, wrap(err)
		}
		if !strings.EqualFold(rest, p.Name) {
			return p, wrap(fmt.Errorf("%w: unknown schema %q for resource type %s", schema.ErrUnknownAttribute, p.URN, rt.Name))
		}
	}
	ref, err := rt.ResolveParts(urn, p.Name, p.Sub)
	if err != nil {
		return p, wrap(err)
	}
	out := AttrPath{URN: urn, Name: ref.Attr.Name, Ref: ref}
	if ref.Sub != nil {
		out.Sub = ref.Sub.Name
	}
	return out, nil
}

// checkLiteral checks that the operator applies to attr's type and that the
// literal has that type, returning the literal in its evaluation form.
func checkLiteral(e *Compare, attr *schema.Attribute) (any, error) {
	if e.Op == Pr {
		return nil, nil
	}
	if e.Value == nil {
		if e.Op != Eq && e.Op != Ne {
			return nil, invalid("%s %s null: null can only be compared with eq or ne", e.Attr, e.Op)
		}
		return nil, nil
	}
	ordered := e.Op == Gt || e.Op == Ge || e.Op == Lt || e.Op == Le
	textual := e.Op == Co || e.Op == Sw || e.Op == Ew
	switch attr.Type {
	case schema.String, schema.Reference:
		if _, ok := e.Value.(string); !ok {
			return nil, invalid("%s is a %s attribute; compare it with a quoted string, not %s", e.Attr, attr.Type, literal(e.Value))
		}
	case schema.Binary:
		if _, ok := e.Value.(string); !ok || ordered {
			return nil, invalid("%s is binary; only eq, ne, co, sw and ew with a quoted string apply", e.Attr)
		}
	case schema.Boolean:
		if ordered || textual {
			return nil, invalid("%s is boolean; only eq, ne and pr apply", e.Attr)
		}
		switch v := e.Value.(type) {
		case bool:
		case string:
			// Entra ID writes booleans as strings elsewhere; accept them here too.
			b, ok := schema.ParseBool(v)
			if !ok {
				return nil, invalid("%s is boolean; compare it with true or false, not %s", e.Attr, literal(e.Value))
			}
			return b, nil
		default:
			return nil, invalid("%s is boolean; compare it with true or false, not %s", e.Attr, literal(e.Value))
		}
	case schema.Integer, schema.Decimal:
		if textual {
			return nil, invalid("%s is a number; co, sw and ew apply only to strings", e.Attr)
		}
		switch v := e.Value.(type) {
		case int64:
			if attr.Type == schema.Decimal {
				return float64(v), nil
			}
		case float64:
		default:
			return nil, invalid("%s is a number; compare it with a number, not %s", e.Attr, literal(e.Value))
		}
	case schema.DateTime:
		if textual {
			return nil, invalid("%s is a dateTime; co, sw and ew apply only to strings", e.Attr)
		}
		s, ok := e.Value.(string)
		if !ok {
			return nil, invalid("%s is a dateTime; compare it with a quoted date such as \"2011-05-13T04:42:34Z\"", e.Attr)
		}
		t, err := schema.ParseDateTime(s)
		if err != nil {
			return nil, invalid("%s is a dateTime and %s is not one (want e.g. \"2011-05-13T04:42:34Z\")", e.Attr, literal(s))
		}
		return t, nil
	}
	return e.Value, nil
}

// schemasPath resolves p when it names the "schemas" attribute every
// resource has (RFC 7643 §3), unqualified or qualified by rt's core schema
// URN. No schema defines it, but RFC 7644 §3.4.2.2 filters on it:
// schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".
// The attribute it resolves to lists rt's schema URNs as canonical values,
// so that Match can tell which of them a resource has.
func schemasPath(p AttrPath, rt *schema.ResourceType) (AttrPath, bool) {
	if p.Sub != "" || !strings.EqualFold(p.Name, "schemas") {
		return p, false
	}
	attr := &schema.Attribute{
		Name: "schemas", Type: schema.Reference, MultiValued: true, Required: true, CaseExact: false,
		Mutability: schema.ReadWrite, Returned: schema.Always, Uniqueness: schema.None,
		ReferenceTypes: []string{"uri"}, CanonicalValues: rt.SchemaURNs(),
	}
	out := AttrPath{Name: attr.Name, Ref: schema.Ref{Attr: attr}}
	switch {
	case p.URN == "":
	case strings.EqualFold(p.URN, rt.Schema.ID):
		out.URN = rt.Schema.ID
	default:
		return p, false
	}
	return out, true
}

// IsSchemas reports whether p is the resolved "schemas" attribute, whose
// values are not stored but follow from the resource's type (the first of
// p.Ref.Attr.CanonicalValues) and the extensions it has values for.
func (p AttrPath) IsSchemas() bool {
	return p.Resolved() && p.Ref.Extension == "" && p.Ref.Sub == nil && p.Ref.Attr.Name == "schemas" &&
		len(p.Ref.Attr.CanonicalValues) > 0
}
