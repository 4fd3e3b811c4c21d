package sqlite

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// maxNameVariants bounds the lower-case spellings of a userName or
// displayName that eq looks up in the name_key index (see lowerVariants);
// a literal with more is compared row by row instead.
const maxNameVariants = 32

// where translates f, resolved against rt, into an SQL condition on the
// resources table aliased r. Its arguments are appended to args, and its
// placeholders ($N, which modernc.org/sqlite binds to the argument with
// ordinal N) are numbered after them: the caller has the first len(args)
// (the directory, the type). Filters the store cannot translate are a
// *scim.Error 400 invalidFilter.
//
// The condition selects exactly the resources filter.Match selects when
// given a resource with its id, meta, members (groups) and groups (users)
// as the store returns them, except that what the store computes on read
// without keeping it (members.display, the $ref of members and groups,
// meta.location) and attributes a client must not learn (writeOnly or
// returned never: password) cannot be filtered on. Every part of the
// condition is 0 or 1, never NULL, so that not and ne are exact negations.
func where(f filter.Expr, rt *schema.ResourceType, args []any) (string, []any, error) {
	t := &translator{rt: rt, args: slices.Clip(args)}
	s, err := t.expr(f, nil)
	if err != nil {
		return "", nil, err
	}
	return s, t.args, nil
}

// translator holds the state of one translation: the arguments so far,
// in the order of their placeholders, and a counter that keeps the aliases
// of subqueries apart.
type translator struct {
	rt      *schema.ResourceType
	args    []any
	aliases int
}

// arg appends v to the arguments and returns its placeholder.
func (t *translator) arg(v any) string {
	t.args = append(t.args, v)
	return "$" + strconv.Itoa(len(t.args))
}

func (t *translator) alias(prefix string) string {
	t.aliases++
	return prefix + strconv.Itoa(t.aliases)
}

// expr translates e; in is the attribute whose values e is about, inside
// a value path, or nil.
func (t *translator) expr(e filter.Expr, in *attrValues) (string, error) {
	switch e := e.(type) {
	case *filter.And:
		return t.pair(e.Left, " AND ", e.Right, in)
	case *filter.Or:
		return t.pair(e.Left, " OR ", e.Right, in)
	case *filter.Not:
		x, err := t.expr(e.X, in)
		if err != nil {
			return "", err
		}
		return not(x), nil
	case *filter.ValuePath:
		if in != nil {
			return "", unsupported("a value path inside a value path: %s", e)
		}
		return t.valuePath(e)
	case *filter.Compare:
		return t.compare(e, in)
	}
	return "", unsupported("unknown expression %T", e)
}

func (t *translator) pair(left filter.Expr, op string, right filter.Expr, in *attrValues) (string, error) {
	l, err := t.expr(left, in)
	if err != nil {
		return "", err
	}
	r, err := t.expr(right, in)
	if err != nil {
		return "", err
	}
	return "(" + l + op + r + ")", nil
}

func not(x string) string { return "NOT (" + x + ")" }

// valuePath translates attr[filter]: some value of attr satisfies filter.
func (t *translator) valuePath(e *filter.ValuePath) (string, error) {
	if !e.Attr.Resolved() {
		return "", unsupported("%s was not resolved against the resource type", e.Attr)
	}
	if err := filterable(e.Attr.Ref); err != nil {
		return "", err
	}
	if e.Attr.Ref.Attr.Type != schema.Complex || e.Attr.Ref.Sub != nil {
		return "", unsupported("%s is not a complex attribute, so it cannot take a [filter]", e.Attr)
	}
	vs, err := t.values(e.Attr.Ref)
	if err != nil {
		return "", err
	}
	cond, err := t.expr(e.Filter, vs)
	if err != nil {
		return "", err
	}
	return vs.exists(cond), nil
}

// compare translates an attribute expression; in is the attribute whose
// values it is about, inside a value path, or nil.
func (t *translator) compare(c *filter.Compare, in *attrValues) (string, error) {
	p := c.Attr
	if !p.Resolved() {
		return "", unsupported("%s was not resolved against the resource type", p)
	}
	switch {
	case c.Op == filter.Ne: // the negation of eq, true when there is no value
		s, err := t.compare(&filter.Compare{Attr: p, Op: filter.Eq, Value: c.Value}, in)
		return not(s), err
	case c.Op == filter.Eq && c.Value == nil: // eq null: no value
		s, err := t.compare(&filter.Compare{Attr: p, Op: filter.Pr}, in)
		return not(s), err
	}
	if p.IsSchemas() {
		return t.schemas(c)
	}
	if err := filterable(p.Ref); err != nil {
		return "", err
	}
	ref := p.Ref
	if in != nil {
		if ref.Sub == nil {
			return "", unsupported("%s inside a value path names no sub-attribute", p)
		}
		x, err := in.sub(ref.Sub)
		if err != nil {
			return "", err
		}
		return t.test(x, ref.Sub, c.Op, c.Value)
	}
	if s, ok, err := t.column(c); ok || err != nil {
		return s, err
	}
	if ref.Attr.Type == schema.Complex {
		vs, err := t.values(ref)
		if err != nil {
			return "", err
		}
		if ref.Sub == nil {
			// Only pr: filter.Parse turns other comparisons of a complex
			// attribute into comparisons of its value sub-attribute.
			if c.Op != filter.Pr {
				return "", unsupported("%s %s: name a sub-attribute", p, c.Op)
			}
			return vs.present, nil
		}
		x, err := vs.sub(ref.Sub)
		if err != nil {
			return "", err
		}
		s, err := t.test(x, ref.Sub, c.Op, c.Value)
		if err != nil || !vs.multi {
			return s, err // a missing single value is NULL, and fails the test
		}
		return vs.exists(s), nil
	}
	path, err := jsonPath(ref.Extension, ref.Attr.Name)
	if err != nil {
		return "", err
	}
	if ref.Attr.MultiValued {
		e := t.alias("e")
		s, err := t.test(operand{sql: e + ".value"}, ref.Attr, c.Op, c.Value)
		if err != nil {
			return "", err
		}
		return "EXISTS (SELECT 1 FROM json_each(r.attrs, " + path + ") AS " + e + " WHERE " + s + ")", nil
	}
	return t.test(operand{sql: "json_extract(r.attrs, " + path + ")"}, ref.Attr, c.Op, c.Value)
}

// operand is an SQL expression for one value of an attribute, NULL when
// there is none.
type operand struct {
	sql string
	// notNull says the expression is never NULL (a NOT NULL column), so
	// a comparison with it needs no COALESCE, which would hide it from
	// the indexes.
	notNull bool
	// instant says a dateTime value is already an instantKey.
	instant bool
}

// test returns the condition that the value x of attribute a satisfies
// op and lit, as filter.Match tests one value; 0 when x is NULL.
func (t *translator) test(x operand, a *schema.Attribute, op filter.Op, lit any) (string, error) {
	var s string
	if op == filter.Pr { // a value that is not an empty string; false and 0 are values
		s = x.sql + " <> ''"
	} else {
		var err error
		if s, err = t.cmp(x, a, op, lit); err != nil {
			return "", err
		}
	}
	if x.notNull && (a.Type != schema.DateTime || x.instant) { // scim_instant is NULL for a non-date
		return s, nil
	}
	return "COALESCE(" + s + ", 0)", nil
}

var sqlOps = map[filter.Op]string{filter.Eq: "=", filter.Gt: ">", filter.Ge: ">=", filter.Lt: "<", filter.Le: "<="}

// cmp compares the value x of attribute a with lit as filter.Match does:
// strings case-insensitively unless a is caseExact (eq under
// strings.EqualFold, the other operators under strings.ToLower), dateTimes
// as instants, numbers by value. It is NULL when x is.
func (t *translator) cmp(x operand, a *schema.Attribute, op filter.Op, lit any) (string, error) {
	bad := func() (string, error) {
		return "", unsupported("%s %s %v: the operator or the value does not fit the attribute's type %s", a.Name, op, lit, a.Type)
	}
	switch a.Type {
	case schema.DateTime:
		tm, ok := lit.(time.Time)
		if !ok || sqlOps[op] == "" {
			return bad()
		}
		v := x.sql
		if !x.instant {
			v = "scim_instant(" + v + ")"
		}
		return v + " " + sqlOps[op] + " " + t.arg(instantKey(tm)), nil
	case schema.Boolean:
		b, ok := lit.(bool)
		if !ok || op != filter.Eq {
			return bad()
		}
		if b {
			return x.sql + " = 1", nil // JSON true and false are 1 and 0 in SQL
		}
		return x.sql + " = 0", nil
	case schema.Integer, schema.Decimal:
		if sqlOps[op] == "" {
			return bad()
		}
		switch l := lit.(type) {
		case int64:
			if a.Type == schema.Integer {
				return x.sql + " " + sqlOps[op] + " " + t.arg(l), nil
			}
			lit = float64(l)
		case float64:
		default:
			return bad()
		}
		// As in Go, an integer is converted to the nearest float64 before
		// it is compared with a decimal; so is a decimal that SQLite read
		// as an integer because it has no fraction.
		return "CAST(" + x.sql + " AS REAL) " + sqlOps[op] + " " + t.arg(lit), nil
	case schema.Complex:
		return bad()
	}
	// string, reference, binary
	s, ok := lit.(string)
	if !ok {
		return bad()
	}
	exact := a.CaseExact
	switch op {
	case filter.Eq:
		if exact {
			return x.sql + " = " + t.arg(s), nil
		}
		return "scim_fold(" + x.sql + ") = " + t.arg(store.FoldKey(s)), nil
	case filter.Co, filter.Sw, filter.Ew:
		if s == "" {
			return x.sql + " IS NOT NULL", nil // every string contains ""
		}
		v := x.sql
		if !exact {
			v, s = "scim_lower("+v+")", strings.ToLower(s)
		}
		// As blobs, so that positions and lengths count bytes and LIKE's
		// wildcards and ASCII-only folding stay out of it.
		v = "CAST(" + v + " AS BLOB)"
		n := strconv.Itoa(len(s))
		switch op {
		case filter.Co:
			return "instr(" + v + ", " + t.arg([]byte(s)) + ") > 0", nil
		case filter.Sw:
			return "substr(" + v + ", 1, " + n + ") = " + t.arg([]byte(s)), nil
		}
		return "substr(" + v + ", -" + n + ") = " + t.arg([]byte(s)), nil
	}
	if sqlOps[op] == "" {
		return bad()
	}
	// SQLite compares texts byte by byte, as strings.Compare does.
	if exact {
		return x.sql + " " + sqlOps[op] + " " + t.arg(s), nil
	}
	return "scim_lower(" + x.sql + ") " + sqlOps[op] + " " + t.arg(strings.ToLower(s)), nil
}

// column translates comparisons that the indexed columns of resources
// answer: id, externalId and the userName (users) or displayName (groups)
// held in name. ok is false for the others.
func (t *translator) column(c *filter.Compare) (s string, ok bool, err error) {
	ref := c.Attr.Ref
	if ref.Extension != "" || ref.Sub != nil {
		return "", false, nil
	}
	switch {
	case isCommon(ref.Attr) && ref.Attr.Name == "id":
		s, err := t.test(operand{sql: "r.id", notNull: true}, ref.Attr, c.Op, c.Value)
		return s, true, err
	case isCommon(ref.Attr) && ref.Attr.Name == "externalId":
		// The column is NULL for an empty externalId, which attrs tells
		// from a missing one; it answers only eq with a non-empty value.
		if lit, _ := c.Value.(string); c.Op == filter.Eq && lit != "" && ref.Attr.CaseExact {
			return "r.external_id IS " + t.arg(lit), true, nil
		}
	case ref.Attr == t.rt.Schema.Attribute(store.NameAttr(t.rt)):
		return t.name(c)
	}
	return "", false, nil
}

// name translates a comparison of the attribute held in r.name, whose
// strings.ToLower is r.name_key. name is "" when the attribute is missing,
// so comparisons with "" are left to attrs, which tells the two apart.
func (t *translator) name(c *filter.Compare) (string, bool, error) {
	a := c.Attr.Ref.Attr
	if c.Op == filter.Pr {
		return "r.name <> ''", true, nil
	}
	lit, _ := c.Value.(string)
	if lit == "" {
		return "", false, nil
	}
	if c.Op == filter.Eq {
		return t.nameEq(a, lit), true, nil
	}
	// The other operators fold with strings.ToLower, as name_key is folded:
	// compare it (or name, when a is caseExact) exactly.
	x, key := operand{sql: "r.name_key", notNull: true}, strings.ToLower(lit)
	if a.CaseExact {
		x.sql, key = "r.name", lit
	}
	exact := *a
	exact.CaseExact = true
	switch c.Op {
	case filter.Sw:
		if end, ok := prefixEnd(key); ok { // a range, which the index answers
			return "(" + x.sql + " >= " + t.arg(key) + " AND " + x.sql + " < " + t.arg(end) + ")", true, nil
		}
	case filter.Lt, filter.Le:
		// A missing name is "", which is less than lit: check there is one.
		path, err := jsonPath("", a.Name)
		if err != nil {
			return "", true, err
		}
		s, err := t.test(x, &exact, c.Op, key)
		return "(" + s + " AND (r.name <> '' OR json_type(r.attrs, " + path + ") IS NOT NULL))", true, err
	}
	s, err := t.test(x, &exact, c.Op, key)
	return s, true, err
}

// nameEq translates name eq lit, lit not empty. eq folds with
// strings.EqualFold, name_key with strings.ToLower: it looks up every
// lower case of a string equal to lit in the index, then keeps the names
// that are equal to lit.
func (t *translator) nameEq(a *schema.Attribute, lit string) string {
	if a.CaseExact {
		return "(r.name_key = " + t.arg(strings.ToLower(lit)) + " AND r.name = " + t.arg(lit) + ")"
	}
	variants, ok := lowerVariants(lit, maxNameVariants)
	if !ok {
		return "scim_fold(r.name) = " + t.arg(store.FoldKey(lit))
	}
	var in string
	if len(variants) == 1 {
		in = "r.name_key = " + t.arg(variants[0])
	} else {
		marks := make([]string, len(variants))
		for i, v := range variants {
			marks[i] = t.arg(v)
		}
		in = "r.name_key IN (" + strings.Join(marks, ", ") + ")"
	}
	return "(" + in + " AND scim_fold(r.name) = " + t.arg(store.FoldKey(lit)) + ")"
}

// prefixEnd returns the least string greater than every string that
// starts with p, if there is one.
func prefixEnd(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// schemas translates a comparison of the "schemas" attribute, whose values
// follow from the resource type and the extensions the resource has values
// for: each possible value is compared in Go.
func (t *translator) schemas(c *filter.Compare) (string, error) {
	var terms []string
	for i, urn := range c.Attr.Ref.Attr.CanonicalValues {
		if !filter.MatchValue(c, map[string]any{c.Attr.Name: urn}) {
			continue
		}
		if i == 0 { // the core schema's URN, which every resource has
			return "1", nil
		}
		path, err := jsonPath(urn)
		if err != nil {
			return "", err
		}
		terms = append(terms, "COALESCE(json_type(r.attrs, "+path+") = 'object' AND (r.attrs -> "+path+") <> '{}', 0)")
	}
	if len(terms) == 0 {
		return "0", nil
	}
	return "(" + strings.Join(terms, " OR ") + ")", nil
}

// attrValues are the values of a complex attribute: how to tell whether
// some of them satisfy a condition, and how to reach a value's
// sub-attributes.
type attrValues struct {
	// multi says the attribute is multi-valued. A single value's
	// sub-attributes can be tested without exists: they are NULL when
	// the attribute is missing.
	multi bool
	// exists returns a condition that holds when some value satisfies
	// cond, a condition on one value.
	exists func(cond string) string
	// sub returns a sub-attribute of the value exists ranges over.
	sub func(a *schema.Attribute) (operand, error)
	// present is the condition attr pr: some sub-attribute of some value
	// is present.
	present string
}

// values returns where the values of the complex attribute ref names are:
// meta in columns, a group's members in the members table, a user's groups
// computed from it, the rest in attrs.
func (t *translator) values(ref schema.Ref) (*attrValues, error) {
	a := ref.Attr
	switch {
	case isCommon(a) && a.Name == "meta":
		return metaValues(), nil
	case ref.Extension == "" && a.Name == "members":
		return t.memberValues(), nil
	case ref.Extension == "" && a.Name == "groups":
		return t.groupValues(), nil
	}
	path, err := jsonPath(ref.Extension, a.Name)
	if err != nil {
		return nil, err
	}
	vs := &attrValues{multi: a.MultiValued,
		present: "EXISTS (SELECT 1 FROM json_tree(r.attrs, " + path + ") WHERE atom <> '')"}
	if a.MultiValued {
		e := t.alias("e")
		vs.exists = func(cond string) string {
			return "EXISTS (SELECT 1 FROM json_each(r.attrs, " + path + ") AS " + e +
				" WHERE " + e + ".type = 'object' AND " + cond + ")"
		}
		vs.sub = func(s *schema.Attribute) (operand, error) {
			p, err := jsonPath(s.Name)
			return operand{sql: "json_extract(" + e + ".value, " + p + ")"}, err
		}
		return vs, nil
	}
	vs.exists = func(cond string) string {
		return "(COALESCE(json_type(r.attrs, " + path + ") = 'object', 0) AND " + cond + ")"
	}
	vs.sub = func(s *schema.Attribute) (operand, error) {
		p, err := jsonPath(ref.Extension, a.Name, s.Name)
		return operand{sql: "json_extract(r.attrs, " + p + ")"}, err
	}
	return vs, nil
}

// metaValues returns meta, whose sub-attributes are columns; every
// resource has it.
func metaValues() *attrValues {
	return &attrValues{
		exists:  func(cond string) string { return cond },
		present: "1",
		sub: func(s *schema.Attribute) (operand, error) {
			switch s.Name {
			case "created":
				return operand{sql: "r.created", notNull: true, instant: true}, nil
			case "lastModified":
				return operand{sql: "r.last_modified", notNull: true, instant: true}, nil
			case "resourceType":
				return operand{sql: "r.type", notNull: true}, nil
			case "version":
				return operand{sql: `('W/"' || r.version || '"')`, notNull: true}, nil
			}
			return operand{}, unsupported("meta.%s is not stored, so it cannot be filtered on", s.Name)
		},
	}
}

// memberValues returns a group's members: their value and type are in the
// members table; display and $ref are computed on read.
func (t *translator) memberValues() *attrValues {
	m := t.alias("m")
	vs := &attrValues{
		multi: true,
		exists: func(cond string) string {
			return "EXISTS (SELECT 1 FROM members " + m + " WHERE " + m + ".directory_id = r.directory_id AND " +
				m + ".group_id = r.id AND " + cond + ")"
		},
		sub: func(s *schema.Attribute) (operand, error) {
			switch s.Name {
			case "value":
				return operand{sql: m + ".member_id", notNull: true}, nil
			case "type":
				return operand{sql: m + ".member_type", notNull: true}, nil
			}
			return operand{}, unsupported("members.%s is not stored, so it cannot be filtered on", s.Name)
		},
	}
	vs.present = vs.exists("(" + m + ".member_id <> '' OR " + m + ".member_type <> '')")
	return vs
}

// groupValues returns a user's groups: the groups it is a member of,
// directly or through nested groups (UNION ends the recursion on cycles),
// with the type "direct" when it is a member of the group itself and the
// group's name as display.
func (t *translator) groupValues() *attrValues {
	g := t.alias("g")
	join := false // whether display needs the group's row
	return &attrValues{
		multi: true,
		exists: func(cond string) string {
			// CROSS JOIN keeps the recursive row the outer loop, so that
			// each step is an index lookup, not a scan of the directory.
			s := "EXISTS (WITH RECURSIVE " + g + "(id, direct) AS (" +
				"SELECT m.group_id, 1 FROM members m WHERE m.directory_id = r.directory_id AND m.member_id = r.id" +
				" UNION SELECT m.group_id, 0 FROM " + g + " CROSS JOIN members m" +
				" WHERE m.directory_id = r.directory_id AND m.member_id = " + g + ".id)" +
				" SELECT 1 FROM (SELECT id, max(direct) AS direct FROM " + g + " GROUP BY id) AS " + g + "v"
			if join {
				s += " JOIN resources " + g + "r ON " + g + "r.directory_id = r.directory_id AND " + g + "r.id = " + g + "v.id"
			}
			return s + " WHERE " + cond + ")"
		},
		sub: func(s *schema.Attribute) (operand, error) {
			switch s.Name {
			case "value":
				return operand{sql: g + "v.id", notNull: true}, nil
			case "type":
				return operand{sql: "(CASE WHEN " + g + "v.direct THEN 'direct' ELSE 'indirect' END)", notNull: true}, nil
			case "display":
				join = true
				return operand{sql: g + "r.name", notNull: true}, nil
			}
			return operand{}, unsupported("groups.%s is not stored, so it cannot be filtered on", s.Name)
		},
		present: "EXISTS (SELECT 1 FROM members m WHERE m.directory_id = r.directory_id AND m.member_id = r.id)",
	}
}

// filterable rejects attributes whose values a client must never learn:
// a filter on password would let it guess one letter at a time.
func filterable(ref schema.Ref) error {
	for _, a := range []*schema.Attribute{ref.Attr, ref.Sub} {
		if a != nil && (a.Returned == schema.Never || a.Mutability == schema.WriteOnly) {
			return unsupported("%s is never returned, so it cannot be filtered on", ref)
		}
	}
	return nil
}

func isCommon(a *schema.Attribute) bool { return slices.Contains(schema.CommonAttributes(), a) }

// jsonPath returns, as an SQL string literal, the JSON path of the object
// keys given, skipping empty ones: '$."urn:…:User"."manager"'.
func jsonPath(keys ...string) (string, error) {
	var b strings.Builder
	b.WriteString("'$")
	for _, k := range keys {
		if k == "" {
			continue
		}
		if strings.ContainsAny(k, `"\`) {
			return "", unsupported("%q cannot be named in a JSON path", k)
		}
		b.WriteString(`."`)
		b.WriteString(strings.ReplaceAll(k, "'", "''"))
		b.WriteString(`"`)
	}
	b.WriteString("'")
	return b.String(), nil
}

func unsupported(format string, args ...any) error {
	return scim.BadRequest(scim.InvalidFilter, "unsupported filter: %s", fmt.Sprintf(format, args...))
}
