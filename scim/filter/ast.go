package filter

import (
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/scim/schema"
)

// Expr is a node of a parsed filter: *And, *Or, *Not, *Compare or
// *ValuePath.
type Expr interface {
	// String returns the expression in canonical filter syntax; parsing it
	// again yields an equal expression.
	String() string
	expr()
}

// Op is a comparison operator (RFC 7644 §3.4.2.2), in lower case.
type Op string

// The comparison operators of RFC 7644 §3.4.2.2.
const (
	Eq Op = "eq" // equal
	Ne Op = "ne" // not equal: exactly the negation of Eq, so true when the attribute has no value
	Co Op = "co" // contains
	Sw Op = "sw" // starts with
	Ew Op = "ew" // ends with
	Gt Op = "gt" // greater than
	Ge Op = "ge" // greater than or equal to
	Lt Op = "lt" // less than
	Le Op = "le" // less than or equal to
	Pr Op = "pr" // present (has a non-empty value)
)

var ops = map[string]Op{"eq": Eq, "ne": Ne, "co": Co, "sw": Sw, "ew": Ew, "gt": Gt, "ge": Ge, "lt": Lt, "le": Le, "pr": Pr}

// And matches when both Left and Right match.
type And struct{ Left, Right Expr }

// Or matches when Left or Right matches.
type Or struct{ Left, Right Expr }

// Not matches when X does not.
type Not struct{ X Expr }

// Compare is an attribute expression: Attr Op Value, or Attr pr.
//
// Value is nil (for pr and for the literal null), a string, a bool, an
// int64 or a float64. Once resolved against a resource type, a literal
// compared with a dateTime attribute is a time.Time.
//
// When the attribute is multi-valued, the expression matches if any value
// matches; Ne is the negation of Eq, so it matches when no value is equal.
type Compare struct {
	Attr  AttrPath
	Op    Op
	Value any
}

// ValuePath selects the values of a complex attribute that match Filter,
// as in emails[type eq "work" and value co "@example.com"]. As an
// expression it matches when at least one value matches. The attribute
// paths inside Filter name sub-attributes of Attr.
type ValuePath struct {
	Attr   AttrPath
	Filter Expr
}

func (*And) expr()       {}
func (*Or) expr()        {}
func (*Not) expr()       {}
func (*Compare) expr()   {}
func (*ValuePath) expr() {}

// AttrPath is an attribute path as written in a filter: an optional schema
// URN, an attribute name and an optional sub-attribute name. Inside a
// ValuePath filter, Name is a sub-attribute of the enclosing attribute.
//
// Ref is set when the filter was parsed against a resource type: it names
// the attribute in the schema (with Ref.Sub set for sub-attributes, also
// inside a ValuePath, where Ref.Attr is the enclosing attribute).
type AttrPath struct {
	URN  string
	Name string
	Sub  string
	Ref  schema.Ref
}

// Resolved reports whether p was resolved against a schema.
func (p AttrPath) Resolved() bool { return p.Ref.Attr != nil }

// String returns the path as written; resolving a path respells it in the
// schema's case.
func (p AttrPath) String() string {
	s := p.Name
	switch {
	case p.URN != "" && p.Name == "": // a bare extension URN (ParsePath)
		s = p.URN
	case p.URN != "":
		s = p.URN + ":" + p.Name
	}
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}

// String returns the expression in filter syntax, with an Or operand in
// parentheses.
func (e *And) String() string { return group(e.Left) + " and " + group(e.Right) }

// String returns the expression in filter syntax.
func (e *Or) String() string { return e.Left.String() + " or " + e.Right.String() }

// String returns the expression in filter syntax.
func (e *Not) String() string { return "not (" + e.X.String() + ")" }

// String returns the expression in filter syntax.
func (e *ValuePath) String() string {
	return e.Attr.String() + "[" + e.Filter.String() + "]"
}

// String returns the expression in filter syntax.
func (e *Compare) String() string {
	if e.Op == Pr {
		return e.Attr.String() + " pr"
	}
	return e.Attr.String() + " " + string(e.Op) + " " + literal(e.Value)
}

// group parenthesises an Or operand of an And, which binds tighter.
func group(e Expr) string {
	if _, ok := e.(*Or); ok {
		return "(" + e.String() + ")"
	}
	return e.String()
}

func literal(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return quote(v)
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0" // so that it parses again as a float64, not an int64
		}
		return s
	case time.Time:
		return quote(v.Format(time.RFC3339Nano))
	}
	return "null"
}

// quote returns s as a JSON string literal.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
