package sqlfilter

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// Where translates f, resolved against rt, into an SQL condition of the
// dialect d on the resources table aliased r. Its arguments are appended
// to args, and its placeholders ($N) are numbered after them: the caller
// has the first len(args), which are the directory ($1) and the type
// ($2). Filters that cannot be translated are a *scim.Error 400
// invalidFilter.
//
// The condition selects exactly the resources filter.Match selects when
// given a resource with its id, meta, members (groups) and groups (users)
// as a store returns them, except that what a store computes on read
// without keeping it (members.display, the $ref of members and groups,
// meta.location) and attributes a client must not learn (writeOnly or
// returned never: password) cannot be filtered on. Values are taken to
// have their attribute's type, as package resource decodes them; a value
// of another type never makes the query fail. Every part of the condition
// is true or false, never NULL, so that not and ne are exact negations.
func Where[O any](d Dialect[O], f filter.Expr, rt *schema.ResourceType, args []any) (string, []any, error) {
	t := &translator[O]{d: d, rt: rt, args: slices.Clip(args)}
	s, err := t.expr(f, nil)
	if err != nil {
		return "", nil, err
	}
	return s, t.args, nil
}

// translator holds the state of one translation: the arguments so far,
// in the order of their placeholders, and a counter that keeps the aliases
// of subqueries apart.
type translator[O any] struct {
	d       Dialect[O]
	rt      *schema.ResourceType
	args    Args
	aliases int
}

func (t *translator[O]) alias(prefix string) string {
	t.aliases++
	return prefix + strconv.Itoa(t.aliases)
}

// expr translates e; in is the attribute whose values e is about, inside
// a value path, or nil.
func (t *translator[O]) expr(e filter.Expr, in *attrValues[O]) (string, error) {
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

func (t *translator[O]) pair(left filter.Expr, op string, right filter.Expr, in *attrValues[O]) (string, error) {
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
func (t *translator[O]) valuePath(e *filter.ValuePath) (string, error) {
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
	return t.withEmailKeys(e.Attr.Ref, e.Filter, vs.exists(cond)), nil
}

// compare translates an attribute expression; in is the attribute whose
// values it is about, inside a value path, or nil.
func (t *translator[O]) compare(c *filter.Compare, in *attrValues[O]) (string, error) {
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
		if vs.multi && ref.Sub.MultiValued {
			// Match would compare whole lists with the literal.
			return "", unsupported("%s: a multi-valued sub-attribute of a multi-valued attribute", p)
		}
		x, err := vs.sub(ref.Sub)
		if err != nil {
			return "", err
		}
		s, err := t.test(x, ref.Sub, c.Op, c.Value)
		if err != nil || !vs.multi {
			return s, err // a missing single value is NULL, and fails the test
		}
		return t.withEmailKeys(ref, c, vs.exists(s)), nil
	}
	x, err := t.attr(ref.Extension, ref.Attr.Name)
	if err != nil {
		return "", err
	}
	return t.test(x, ref.Attr, c.Op, c.Value)
}

// test returns the condition that the value x of attribute a satisfies
// op and lit, as filter.Match tests it: some value of a multi-valued
// attribute does. It is false, not NULL, when x is NULL.
func (t *translator[O]) test(x O, a *schema.Attribute, op filter.Op, lit any) (string, error) {
	if op == filter.Pr {
		return t.d.Present(x, a), nil
	}
	if a.MultiValued {
		one := *a
		one.MultiValued = false
		from, e := t.d.Each(x, t.alias("e"))
		s, err := t.test(e, &one, op, lit)
		return "EXISTS (SELECT 1 FROM " + from + " WHERE " + s + ")", err
	}
	s, err := t.cmp(x, a, op, lit)
	if err != nil || !t.d.Nullable(x) || s == "false" {
		return s, err
	}
	return "COALESCE(" + s + ", false)", nil
}

// cmp compares the value x of attribute a with lit as filter.Match does:
// strings case-insensitively unless a is caseExact, dateTimes as instants,
// numbers by value, after checking that the operator and the literal fit
// a's type. It is NULL when x is.
func (t *translator[O]) cmp(x O, a *schema.Attribute, op filter.Op, lit any) (string, error) {
	bad := func() (string, error) {
		return "", unsupported("%s %s %v: the operator or the value does not fit the attribute's type %s", a.Name, op, lit, a.Type)
	}
	ordering := Operator(op) != ""
	switch a.Type {
	case schema.DateTime:
		tm, ok := lit.(time.Time)
		if !ok || !ordering {
			return bad()
		}
		return t.d.CompareTime(x, op, tm, &t.args), nil
	case schema.Boolean:
		b, ok := lit.(bool)
		if !ok || op != filter.Eq {
			return bad()
		}
		return t.d.CompareBool(x, b), nil
	case schema.Integer, schema.Decimal:
		if !ordering {
			return bad()
		}
		switch l := lit.(type) {
		case int64:
			if a.Type == schema.Integer { // exactly, as Go compares two int64
				return t.d.CompareInt(x, op, l, &t.args), nil
			}
			// As in Go, an integer is converted to the nearest float64
			// before it is compared with a decimal.
			return t.d.CompareFloat(x, op, float64(l), &t.args), nil
		case float64:
			return t.d.CompareFloat(x, op, l, &t.args), nil
		}
		return bad()
	case schema.Complex:
		return bad()
	}
	// string, reference, binary
	s, ok := lit.(string)
	if !ok || !ordering && op != filter.Co && op != filter.Sw && op != filter.Ew {
		return bad()
	}
	return t.d.CompareText(x, op, s, a.CaseExact, &t.args), nil
}

// column translates comparisons that the indexed columns of resources
// answer: id, externalId and the userName (users) or displayName (groups)
// held in name. ok is false for the others.
func (t *translator[O]) column(c *filter.Compare) (s string, ok bool, err error) {
	ref := c.Attr.Ref
	if ref.Extension != "" || ref.Sub != nil {
		return "", false, nil
	}
	switch {
	case isCommon(ref.Attr) && ref.Attr.Name == "id":
		s, err := t.test(t.d.Column("r.id", Text), ref.Attr, c.Op, c.Value)
		return s, true, err
	case isCommon(ref.Attr) && ref.Attr.Name == "externalId":
		// The column is NULL for an empty externalId, which attrs tells
		// from a missing one; it answers only eq with a non-empty value.
		if lit, _ := c.Value.(string); c.Op == filter.Eq && lit != "" && ref.Attr.CaseExact && t.d.Sendable(lit) {
			return t.d.ExternalIDEq(lit, &t.args), true, nil
		}
	case ref.Attr == t.rt.Schema.Attribute(store.NameAttr(t.rt)):
		return t.name(c)
	}
	return "", false, nil
}

// name translates a comparison of the attribute held in r.name, whose
// strings.ToLower is r.name_key. name is "" when the attribute is missing,
// so comparisons with "" are left to attrs, which tells the two apart.
func (t *translator[O]) name(c *filter.Compare) (string, bool, error) {
	a := c.Attr.Ref.Attr
	if c.Op == filter.Pr {
		return "r.name <> ''", true, nil
	}
	lit, _ := c.Value.(string)
	if lit == "" || !t.d.Sendable(lit) {
		return "", false, nil
	}
	if c.Op == filter.Eq {
		return t.d.NameEq(lit, a.CaseExact, &t.args), true, nil
	}
	// Folded only here: eq folds the literal its own way, and folding a
	// long one twice is not free.
	key := lit
	if !a.CaseExact {
		key = strings.ToLower(lit)
	}
	if !t.d.Sendable(key) {
		return "", false, nil
	}
	// The other operators fold with strings.ToLower, as name_key is
	// folded: compare it (or name, when a is caseExact) exactly.
	x := t.d.Column("r.name_key", Text)
	if a.CaseExact {
		x = t.d.Column("r.name", Text)
	}
	exact := *a
	exact.CaseExact = true
	switch c.Op {
	case filter.Sw:
		if end, ok := t.d.PrefixEnd(key); ok { // a range, which the index answers
			return "(" + t.d.CompareText(x, filter.Ge, key, true, &t.args) + " AND " +
				t.d.CompareText(x, filter.Lt, end, true, &t.args) + ")", true, nil
		}
	case filter.Lt, filter.Le:
		// A missing name is "", which is less than lit: check there is one.
		name, err := t.attr("", a.Name)
		if err != nil {
			return "", true, err
		}
		s, err := t.test(x, &exact, c.Op, key)
		return "(" + s + " AND (r.name <> '' OR " + t.d.Type(name) + " IS NOT NULL))", true, err
	}
	s, err := t.test(x, &exact, c.Op, key)
	return s, true, err
}

// schemas translates a comparison of the "schemas" attribute, whose values
// follow from the resource type and the extensions the resource has values
// for: each possible value is compared in Go.
func (t *translator[O]) schemas(c *filter.Compare) (string, error) {
	var terms []string
	for i, urn := range c.Attr.Ref.Attr.CanonicalValues {
		if !filter.MatchValue(c, map[string]any{c.Attr.Name: urn}) {
			continue
		}
		if i == 0 { // the core schema's URN, which every resource has
			return "true", nil
		}
		ext, err := t.attr("", urn)
		if err != nil {
			return "", err
		}
		terms = append(terms, "COALESCE("+t.d.NonEmptyObject(ext)+", false)")
	}
	if len(terms) == 0 {
		return "false", nil
	}
	return "(" + strings.Join(terms, " OR ") + ")", nil
}

// isEmails reports whether ref names the core emails of the resource type.
func (t *translator[O]) isEmails(ref schema.Ref) bool {
	a := ref.Attr
	return ref.Extension == "" && a.Name == "emails" && a.Type == schema.Complex && a.MultiValued &&
		t.rt.Schema.Attribute("emails") == a
}

// withEmailKeys returns cond, a condition that some email of ref satisfies
// e, with the dialect's index condition on the email keys that e implies
// (see Dialect.WithEmailKeys), when ref is the core emails and e implies
// some.
func (t *translator[O]) withEmailKeys(ref schema.Ref, e filter.Expr, cond string) string {
	if !t.isEmails(ref) {
		return cond
	}
	keys, ok := t.emailKeys(e)
	if !ok {
		return cond
	}
	return t.d.WithEmailKeys(keys, cond, &t.args)
}

// emailKeys returns fold keys of which an email value must have one for
// the filter e on an email to hold, if it names any.
func (t *translator[O]) emailKeys(e filter.Expr) ([]string, bool) {
	switch e := e.(type) {
	case *filter.And:
		if keys, ok := t.emailKeys(e.Left); ok {
			return keys, true
		}
		return t.emailKeys(e.Right)
	case *filter.Or:
		l, okl := t.emailKeys(e.Left)
		r, okr := t.emailKeys(e.Right)
		return append(l, r...), okl && okr
	case *filter.Compare:
		lit, ok := e.Value.(string)
		if ok && e.Op == filter.Eq && e.Attr.Ref.Sub != nil && e.Attr.Ref.Sub.Name == "value" {
			if key := store.FoldKey(lit); t.d.Sendable(key) {
				return []string{key}, true
			}
		}
	}
	return nil, false
}

// attrValues are the values of a complex attribute: how to tell whether
// some of them satisfy a condition, and how to reach a value's
// sub-attributes.
type attrValues[O any] struct {
	// multi says the attribute is multi-valued. A single value's
	// sub-attributes can be tested without exists: they are NULL when
	// the attribute is missing.
	multi bool
	// exists returns a condition that holds when some value satisfies
	// cond, a condition on one value.
	exists func(cond string) string
	// sub returns a sub-attribute of the value exists ranges over.
	sub func(a *schema.Attribute) (O, error)
	// present is the condition attr pr: some sub-attribute of some value
	// is present.
	present string
}

// values returns where the values of the complex attribute ref names are:
// meta in columns, a group's members in the members table, a user's groups
// computed from it, the rest in attrs.
func (t *translator[O]) values(ref schema.Ref) (*attrValues[O], error) {
	a := ref.Attr
	switch {
	case isCommon(a) && a.Name == "meta":
		return t.metaValues(), nil
	case ref.Extension == "" && a.Name == "members":
		return t.memberValues(), nil
	case ref.Extension == "" && a.Name == "groups":
		return t.groupValues(), nil
	}
	x, err := t.attr(ref.Extension, a.Name)
	if err != nil {
		return nil, err
	}
	vs := &attrValues[O]{multi: a.MultiValued, present: t.d.Present(x, a)}
	if a.MultiValued {
		from, e := t.d.Each(x, t.alias("e"))
		vs.exists = func(cond string) string {
			return "EXISTS (SELECT 1 FROM " + from + " WHERE " + t.d.Type(e) + " = 'object' AND " + cond + ")"
		}
		vs.sub = func(s *schema.Attribute) (O, error) { return t.sub(e, s.Name) }
		return vs, nil
	}
	vs.exists = func(cond string) string {
		return "(COALESCE(" + t.d.Type(x) + " = 'object', false) AND " + cond + ")"
	}
	vs.sub = func(s *schema.Attribute) (O, error) { return t.sub(x, s.Name) }
	return vs, nil
}

// metaValues returns meta, whose sub-attributes are columns; every
// resource has it.
func (t *translator[O]) metaValues() *attrValues[O] {
	return &attrValues[O]{
		exists:  func(cond string) string { return cond },
		present: "true",
		sub: func(s *schema.Attribute) (O, error) {
			col, kind := metaColumn(s)
			if col == "" {
				var none O
				return none, unsupported("meta.%s is not stored, so it cannot be filtered on", s.Name)
			}
			return t.d.Column(col, kind), nil
		},
	}
}

// metaColumn returns the SQL of the column of resources that holds the
// sub-attribute s of meta, and its kind; "" if none does.
func metaColumn(s *schema.Attribute) (string, Kind) {
	switch s.Name {
	case "created":
		return "r.created", Time
	case "lastModified":
		return "r.last_modified", Time
	case "resourceType":
		return "r.type", Text
	case "version":
		return `('W/"' || r.version || '"')`, Computed
	}
	return "", 0
}

// memberValues returns a group's members: their value and type are in the
// members table; display and $ref are computed on read.
func (t *translator[O]) memberValues() *attrValues[O] {
	m := t.alias("m")
	vs := &attrValues[O]{
		multi: true,
		exists: func(cond string) string {
			return "EXISTS (SELECT 1 FROM " + membersFrom(m) + " AND " + cond + ")"
		},
		sub: func(s *schema.Attribute) (O, error) {
			if col := memberColumn(m, s); col != "" {
				return t.d.Column(col, Text), nil
			}
			var none O
			return none, unsupported("members.%s is not stored, so it cannot be filtered on", s.Name)
		},
	}
	vs.present = vs.exists("(" + m + ".member_id <> '' OR " + m + ".member_type <> '')")
	return vs
}

// membersFrom returns the FROM and WHERE clauses that select the rows of
// the members of the group r, aliased m.
func membersFrom(m string) string {
	return "members " + m + " WHERE " + m + ".directory_id = r.directory_id AND " + m + ".group_id = r.id"
}

// memberColumn returns the column of the members table aliased m that
// holds the sub-attribute s of members, or "".
func memberColumn(m string, s *schema.Attribute) string {
	switch s.Name {
	case "value":
		return m + ".member_id"
	case "type":
		return m + ".member_type"
	}
	return ""
}

// groupValues returns a user's groups (see Dialect.Groups), with the type
// "direct" when it is a member of the group itself and the group's name
// as display.
func (t *translator[O]) groupValues() *attrValues[O] {
	g := t.alias("g")
	join := false // whether display needs the group's row
	return &attrValues[O]{
		multi: true,
		exists: func(cond string) string {
			return "EXISTS (" + t.d.Groups(g, "1", join) + " WHERE " + cond + ")"
		},
		sub: func(s *schema.Attribute) (O, error) {
			col, kind := groupColumn(g, s)
			if col == "" {
				var none O
				return none, unsupported("groups.%s is not stored, so it cannot be filtered on", s.Name)
			}
			join = join || s.Name == "display"
			return t.d.Column(col, kind), nil
		},
		present: "EXISTS (SELECT 1 FROM members " + g + "p WHERE " + g + "p.directory_id = r.directory_id AND " + g + "p.member_id = r.id)",
	}
}

// groupColumn returns the SQL of the sub-attribute s of a group of
// Dialect.Groups(g, …), and its kind; "" if the query has none.
func groupColumn(g string, s *schema.Attribute) (string, Kind) {
	switch s.Name {
	case "value":
		return g + "v.id", Text
	case "type":
		return "(CASE WHEN " + g + "v.direct THEN 'direct' ELSE 'indirect' END)", Computed
	case "display":
		return g + "r.name", Text
	}
	return "", 0
}

// attr returns the value in attrs of the attribute name of the extension
// ext (or of the core schema), if they can be named in SQL.
func (t *translator[O]) attr(ext, name string) (O, error) {
	if err := checkKeys(ext, name); err != nil {
		var none O
		return none, err
	}
	return t.d.Attr(ext, name), nil
}

// sub returns the sub-attribute name of the complex value x, if it can be
// named in SQL.
func (t *translator[O]) sub(x O, name string) (O, error) {
	if err := checkKeys(name); err != nil {
		var none O
		return none, err
	}
	return t.d.Sub(x, name), nil
}

// checkKeys rejects object keys that some dialect cannot write in an SQL
// string literal (whatever PostgreSQL's standard_conforming_strings says)
// or a JSON path. Schemas name their attributes with letters, digits, "-",
// "_" and "$", so it never does.
func checkKeys(keys ...string) error {
	for _, k := range keys {
		if strings.ContainsAny(k, "\"\\\x00") || !utf8.ValidString(k) {
			return unsupported("%q cannot be named in SQL", k)
		}
	}
	return nil
}

// secret reports whether ref names an attribute whose values a client
// must never learn: one that is writeOnly or never returned (password),
// or a sub-attribute of one. Filters and sorts refuse them alike, since
// either would answer questions about the values: a filter on password
// would let a client guess one letter at a time, a sort would tell who
// has one.
func secret(ref schema.Ref) bool {
	for _, a := range []*schema.Attribute{ref.Attr, ref.Sub} {
		if a != nil && (a.Returned == schema.Never || a.Mutability == schema.WriteOnly) {
			return true
		}
	}
	return false
}

// filterable rejects attributes a filter must not name (see secret).
func filterable(ref schema.Ref) error {
	if secret(ref) {
		return unsupported("%s is never returned, so it cannot be filtered on", ref)
	}
	return nil
}

func isCommon(a *schema.Attribute) bool { return slices.Contains(schema.CommonAttributes(), a) }

func unsupported(format string, args ...any) error {
	return scim.BadRequest(scim.InvalidFilter, "unsupported filter: %s", fmt.Sprintf(format, args...))
}
