package sqlfilter

import (
	"strconv"
	"time"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
)

// Dialect writes the SQL of the leaves of a condition for one database:
// how to reach a value in the JSON column attrs of the resources table r,
// how to compare a value with a literal, and how to use the dialect's own
// columns and indexes. O is the dialect's operand: an SQL expression for
// a value of an attribute, which only the dialect reads.
//
// Keys that a method is given (attribute names, extension URNs) are valid
// UTF-8 without NUL, '"' or '\', which every dialect can write in an SQL
// string literal and a JSON path. Methods that take args append the
// arguments of the SQL they return to it (see Args.Add).
type Dialect[O any] interface {
	// Attr returns the value in attrs of the attribute name of the schema
	// extension ext, or of the core schema when ext is "": NULL when the
	// resource has none. Attr("", urn) is the object that holds the
	// attributes of the extension urn.
	Attr(ext, name string) O
	// Sub returns the sub-attribute name of the complex value x.
	Sub(x O, name string) O
	// Each returns a FROM item aliased alias with one row for each value
	// of the multi-valued x (a single value, as filter.Match takes one, is
	// one row), and the value of the row.
	Each(x O, alias string) (from string, elem O)
	// Primary returns the value of the multi-valued x that a resource
	// sorts by: the primary one, else the first (RFC 7644 §3.4.2.3); NULL
	// when there is none.
	Primary(x O) O
	// Column returns the operand for the column (or the expression on
	// columns) sql, which holds a value of the given kind. A condition
	// takes its value to be never NULL; a sort key takes NULL for a
	// missing value, as it does for any operand.
	Column(sql string, kind Kind) O
	// Nullable reports whether x is NULL when there is no value, as a
	// value in attrs is: a condition on it needs a COALESCE, which a
	// condition on a column does without, so that indexes answer it.
	Nullable(x O) bool

	// Type returns the JSON type of the value x in attrs, as SQL that is
	// 'object' for an object, 'array' for an array, NULL when there is no
	// value.
	Type(x O) string
	// NonEmptyObject returns the condition that x is an object with at
	// least one member; it may be NULL when there is no value.
	NonEmptyObject(x O) string
	// Present returns the condition "x pr" on the value x of the
	// attribute a: x, or for a multi-valued or complex attribute a value
	// in it, is a number, a boolean or a string other than "". It is never
	// NULL.
	Present(x O, a *schema.Attribute) string
	// CompareTime returns the condition that the dateTime x compares with
	// t under op (eq, gt, ge, lt, le) as instants; NULL when x is.
	CompareTime(x O, op filter.Op, t time.Time, args *Args) string
	// CompareBool returns the condition x eq b; NULL when x is.
	CompareBool(x O, b bool) string
	// CompareInt returns the condition that the integer x compares with n
	// under op (eq, gt, ge, lt, le), exactly; NULL when x is.
	CompareInt(x O, op filter.Op, n int64, args *Args) string
	// CompareFloat returns the condition that the number x, converted to
	// the nearest float64 as Go converts an integer it compares with a
	// decimal, compares with f under op (eq, gt, ge, lt, le); NULL when x
	// is.
	CompareFloat(x O, op filter.Op, f float64, args *Args) string
	// CompareText returns the condition that the string x compares with s
	// under op as filter.Match compares them: eq under strings.EqualFold,
	// co, sw, ew and the ordering operators (gt, ge, lt, le) under
	// strings.ToLower and then byte by byte, or all of them exactly when
	// exact. It is NULL when x is.
	CompareText(x O, op filter.Op, s string, exact bool, args *Args) string

	// Sendable reports whether the dialect can take s as a text argument.
	// A comparison of the name column with a literal that it cannot take
	// is left to attrs, and so are the email keys of such a literal.
	Sendable(s string) bool
	// NameEq returns the condition that r.name (userName or displayName)
	// equals lit, not "": exactly when exact, else under strings.EqualFold.
	// r.fold_key holds store.FoldKey of r.name (equal keys, equal under
	// EqualFold), in a unique index.
	NameEq(lit string, exact bool, args *Args) string
	// PrefixEnd returns the least string greater than every string that
	// starts with p, in the order in which the dialect compares texts, if
	// there is one.
	PrefixEnd(p string) (string, bool)
	// ExternalIDEq returns the condition that r.external_id, NULL for an
	// empty or missing externalId, equals lit, not "". It is never NULL.
	ExternalIDEq(lit string, args *Args) string
	// Groups returns a query of the groups the user r is a member of,
	// directly or through nested groups, one row each, aliased alias+"v":
	// its column id, and direct, true when r is a member of the group
	// itself. join adds the group's row of resources, aliased alias+"r".
	// The query selects sel and can take a WHERE clause.
	Groups(alias, sel string, join bool) string
	// WithEmailKeys returns cond, a condition that holds only for users
	// with an email whose value folds (store.FoldKey) to one of keys, with
	// a condition that it implies added, which an index on the users'
	// email keys can answer; or cond alone, when the dialect has no such
	// index. The lookup is to be bound to the directory (Directory): the
	// users of other directories with the same keys must cost the query
	// nothing.
	WithEmailKeys(keys []string, cond string, args *Args) string

	// SortKeys returns the SQL values that order x, a value of the
	// attribute a or NULL, as resource.Compare orders values: a missing
	// value (NULL) last in ascending order, first in descending order.
	SortKeys(x O, a *schema.Attribute) []string
}

// Kind says what a column operand holds (see Dialect.Column).
type Kind int

const (
	// Text is a text column, which the indexes answer, compared byte by
	// byte as strings.Compare compares strings.
	Text Kind = iota
	// Computed is a text computed from columns.
	Computed
	// Time is a column that holds an instant as the dialect keeps them.
	Time
)

// Args are the arguments of an SQL statement, in the order of their
// numbered placeholders: $1 is the first.
type Args []any

// Add appends v to the arguments and returns its placeholder, "$N".
func (a *Args) Add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// Directory adds the directory the condition is of (the caller's first
// argument, see Where) and returns its placeholder, for a part of the
// condition that looks resources up apart from the row r.
func (a *Args) Directory() string { return a.Add((*a)[0]) }

// Operator returns the SQL operator of the comparison op: "=" for eq, ">"
// for gt, ">=" for ge, "<" for lt, "<=" for le, and "" for the others.
func Operator(op filter.Op) string {
	switch op {
	case filter.Eq:
		return "="
	case filter.Gt:
		return ">"
	case filter.Ge:
		return ">="
	case filter.Lt:
		return "<"
	case filter.Le:
		return "<="
	}
	return ""
}
