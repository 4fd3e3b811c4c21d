package postgres

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

// where translates f, resolved against rt, into an SQL condition on the
// resources table aliased r. Its arguments are appended to args, and its
// placeholders are numbered after them: the caller has the first
// len(args) (the directory, the type). Filters the store cannot translate
// are a *scim.Error 400 invalidFilter.
//
// The condition selects exactly the resources filter.Match selects when
// given a resource with its id, meta, members (groups) and groups (users)
// as the store returns them, except that what the store computes on read
// without keeping it (members.display, the $ref of members and groups,
// meta.location) and attributes a client must not learn (writeOnly or
// returned never: password) cannot be filtered on. Values are taken to
// have their attribute's type, as package resource decodes them; a value
// of another type never makes the query fail. Every part of the condition
// is true or false, never NULL, so that not and ne are exact negations.
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

// arg appends v to the arguments and returns its placeholder, cast to the
// SQL type typ so that PostgreSQL need not infer it.
func (t *translator) arg(v any, typ string) string {
	t.args = append(t.args, v)
	return "$" + strconv.Itoa(len(t.args)) + "::" + typ
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
	s := vs.exists(cond)
	if t.isEmails(e.Attr.Ref) {
		if keys, ok := emailKeys(e.Filter); ok {
			s = t.withEmailKeys(keys, s)
		}
	}
	return s, nil
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
		s = vs.exists(s)
		if lit, ok := c.Value.(string); ok && c.Op == filter.Eq && ref.Sub.Name == "value" && t.isEmails(ref) {
			if key := store.FoldKey(lit); sendable(key) {
				s = t.withEmailKeys([]string{key}, s)
			}
		}
		return s, nil
	}
	x, err := attrOperand(ref.Extension, ref.Attr.Name)
	if err != nil {
		return "", err
	}
	return t.test(x, ref.Attr, c.Op, c.Value)
}

// valueKind says what SQL type an operand has.
type valueKind int

const (
	jsonValue valueKind = iota // jsonb, NULL when there is no value
	textValue                  // text, never NULL
	timeValue                  // timestamptz with microseconds, never NULL
)

// operand is an SQL expression for the value of an attribute.
type operand struct {
	kind valueKind
	sql  string
	// key, for a jsonValue, says the value is the member key of the
	// object sql, so that its text can be read with ->>.
	key string
	// collated says a textValue is in the "C" collation already (a
	// column), so that ordering it needs no COLLATE, which would hide it
	// from the indexes.
	collated bool
}

// json returns the jsonb value of a jsonValue.
func (x operand) json() string {
	if x.key == "" {
		return x.sql
	}
	return "(" + x.sql + " -> " + sqlString(x.key) + ")"
}

// text returns the value as text: a JSON string's characters, NULL when
// there is no value.
func (x operand) text() string {
	switch {
	case x.kind != jsonValue:
		return x.sql
	case x.key == "":
		return "(" + x.sql + " #>> '{}')"
	}
	return "(" + x.sql + " ->> " + sqlString(x.key) + ")"
}

// collatedText returns the value as text in the "C" collation, which
// orders as strings.Compare: byte by byte.
func (x operand) collatedText() string {
	if x.collated {
		return x.sql
	}
	return x.text() + ` COLLATE "C"`
}

// attrOperand returns the value of the attribute name of the extension
// ext (or of the core schema) in attrs.
func attrOperand(ext, name string) (operand, error) {
	base := "r.attrs"
	if ext != "" {
		if err := checkKey(ext); err != nil {
			return operand{}, err
		}
		base = "(r.attrs -> " + sqlString(ext) + ")"
	}
	return operand{sql: base, key: name}, checkKey(name)
}

// checkKey rejects object keys that cannot be written in an SQL string
// literal whatever standard_conforming_strings says. Schemas name their
// attributes with letters, digits, "-", "_" and "$", so it never does.
func checkKey(k string) error {
	if strings.ContainsAny(k, "\\\x00") || !utf8.ValidString(k) {
		return unsupported("%q cannot be named in SQL", k)
	}
	return nil
}

// elements returns a FROM item with one row (column v) for each value of
// the multi-valued attribute whose jsonb value is j; a single value, as
// filter.Match takes one, is one row.
func elements(j, alias string) string {
	return "jsonb_array_elements(" + arrayOf(j) + ") AS " + alias + "(v)"
}

// arrayOf returns the jsonb value j as an array: j itself if it is one,
// NULL if there is no value, else an array of j alone.
func arrayOf(j string) string {
	return "CASE WHEN jsonb_typeof(" + j + ") = 'array' THEN " + j +
		" WHEN jsonb_typeof(" + j + ") <> 'null' THEN jsonb_build_array(" + j + ") END"
}

// presentPath selects, among a JSON value and everything inside it, what
// filter.Present counts as a value: anything but null, "", and lists and
// objects of nothing else.
const presentPath = `'strict $.** ? (@.type() == "number" || @.type() == "boolean" || @.type() == "string" && @ != "")'`

// present returns the condition attr pr on the value x.
func present(x operand) string {
	switch x.kind {
	case textValue:
		return x.sql + " <> ''"
	case timeValue:
		return "true"
	}
	return "COALESCE(jsonb_path_exists(" + x.json() + ", " + presentPath + "), false)"
}

// test returns the condition that the value x of attribute a satisfies
// op and lit, as filter.Match tests it: some value of a multi-valued
// attribute does. It is false, not NULL, when x is NULL.
func (t *translator) test(x operand, a *schema.Attribute, op filter.Op, lit any) (string, error) {
	if op == filter.Pr {
		return present(x), nil
	}
	if a.MultiValued && x.kind == jsonValue {
		one := *a
		one.MultiValued = false
		e := t.alias("e")
		s, err := t.test(operand{sql: e + ".v"}, &one, op, lit)
		return "EXISTS (SELECT 1 FROM " + elements(x.json(), e) + " WHERE " + s + ")", err
	}
	s, err := t.cmp(x, a, op, lit)
	if err != nil || x.kind != jsonValue || s == "false" {
		return s, err
	}
	return "COALESCE(" + s + ", false)", nil
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
		if x.kind == timeValue {
			return t.timeCmp(x.sql, op, tm), nil
		}
		return "scim_instant(" + x.text() + ") " + sqlOps[op] + " " + t.arg(instantKey(tm), "numeric"), nil
	case schema.Boolean:
		b, ok := lit.(bool)
		if !ok || op != filter.Eq || x.kind != jsonValue {
			return bad()
		}
		return x.json() + " = '" + strconv.FormatBool(b) + "'::jsonb", nil
	case schema.Integer, schema.Decimal:
		if sqlOps[op] == "" || x.kind != jsonValue {
			return bad()
		}
		num := func(typ string) string {
			j := x.json()
			return "(CASE WHEN jsonb_typeof(" + j + ") = 'number' THEN (" + j + ")::" + typ + " END)"
		}
		switch l := lit.(type) {
		case int64:
			if a.Type == schema.Integer { // exactly, as Go compares two int64
				return num("numeric") + " " + sqlOps[op] + " " + t.arg(l, "bigint"), nil
			}
			lit = float64(l)
		case float64:
		default:
			return bad()
		}
		// As in Go, an integer is converted to the nearest float64 before
		// it is compared with a decimal. PostgreSQL converts a numeric to
		// float8 by strtod on its text, which rounds to nearest too.
		return num("float8") + " " + sqlOps[op] + " " + t.arg(lit, "float8"), nil
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
		if !exact {
			s = store.FoldKey(s)
		}
		if !sendable(s) {
			return "false", nil // no text PostgreSQL holds, nor its key, is equal to it
		}
		if exact {
			return x.text() + " = " + t.arg(s, "text"), nil
		}
		return "scim_fold(" + x.text() + ") = " + t.arg(s, "text"), nil
	case filter.Co, filter.Sw, filter.Ew:
		if s == "" { // every string contains ""
			if x.kind == jsonValue {
				return "jsonb_typeof(" + x.json() + ") = 'string'", nil
			}
			return "true", nil
		}
	default:
		if sqlOps[op] == "" {
			return bad()
		}
	}
	v := x.collatedText()
	if !exact {
		v, s = `scim_lower(`+x.text()+`) COLLATE "C"`, strings.ToLower(s)
	}
	if !sendable(s) {
		return t.bytesCmp(v, op, s), nil
	}
	// PostgreSQL texts are valid UTF-8, and so is s: one is a substring of
	// the other as characters exactly when it is as bytes, as Go compares.
	switch op {
	case filter.Co:
		return "strpos(" + v + ", " + t.arg(s, "text") + ") > 0", nil
	case filter.Sw:
		return "starts_with(" + v + ", " + t.arg(s, "text") + ")", nil
	case filter.Ew:
		return "right(" + v + ", " + strconv.Itoa(utf8.RuneCountInString(s)) + ") = " + t.arg(s, "text"), nil
	}
	// The "C" collation compares texts byte by byte, as strings.Compare.
	return v + " " + sqlOps[op] + " " + t.arg(s, "text"), nil
}

// sendable reports whether PostgreSQL can take s as a text: valid UTF-8
// without NUL.
func sendable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// bytesCmp compares the text v with a literal that cannot be sent as a
// text (it holds NUL, or is not valid UTF-8) as their bytes, which is what
// Go compares.
func (t *translator) bytesCmp(v string, op filter.Op, lit string) string {
	b, l := "convert_to("+v+", 'UTF8')", t.arg([]byte(lit), "bytea")
	n := strconv.Itoa(len(lit))
	switch op {
	case filter.Co:
		return "position(" + l + " in " + b + ") > 0"
	case filter.Sw:
		return "substr(" + b + ", 1, " + n + ") = " + l
	case filter.Ew:
		return "substr(" + b + ", greatest(octet_length(" + b + ") - " + n + " + 1, 1)) = " + l
	}
	return b + " " + sqlOps[op] + " " + l
}

// timeCmp compares a timestamptz column, whose values have microseconds,
// with lit, which may have nanoseconds. Against the microsecond tr that
// lit truncates to, a column value c < lit exactly when c <= tr, when lit
// has more digits than tr, and c > lit exactly when c > tr.
func (t *translator) timeCmp(col string, op filter.Op, lit time.Time) string {
	tr := lit.Add(-time.Duration(lit.Nanosecond() % 1000))
	more := !tr.Equal(lit)
	switch {
	case op == filter.Eq && more:
		return "false"
	case op == filter.Ge && more:
		op = filter.Gt
	case op == filter.Lt && more:
		op = filter.Le
	}
	return col + " " + sqlOps[op] + " " + t.arg(tr, "timestamptz")
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
		s, err := t.test(operand{kind: textValue, sql: "r.id", collated: true}, ref.Attr, c.Op, c.Value)
		return s, true, err
	case isCommon(ref.Attr) && ref.Attr.Name == "externalId":
		// The column is NULL for an empty externalId, which attrs tells
		// from a missing one; it answers only eq with a non-empty value.
		// "IS NOT NULL" makes the condition false, not NULL, where the
		// column is NULL, and leaves "=" to the index.
		if lit, _ := c.Value.(string); c.Op == filter.Eq && lit != "" && ref.Attr.CaseExact && sendable(lit) {
			return "(r.external_id = " + t.arg(lit, "text") + " AND r.external_id IS NOT NULL)", true, nil
		}
	case ref.Attr == t.rt.Schema.Attribute(store.NameAttr(t.rt)):
		return t.name(c)
	}
	return "", false, nil
}

// name translates a comparison of the attribute held in r.name, whose
// strings.ToLower is r.name_key and whose store.FoldKey is r.fold_key.
// name is "" when the attribute is missing, so comparisons with "" are
// left to attrs, which tells the two apart.
func (t *translator) name(c *filter.Compare) (string, bool, error) {
	a := c.Attr.Ref.Attr
	if c.Op == filter.Pr {
		return "r.name <> ''", true, nil
	}
	lit, _ := c.Value.(string)
	key := lit
	if !a.CaseExact {
		key = strings.ToLower(lit)
	}
	if lit == "" || !sendable(lit) || !sendable(key) {
		return "", false, nil
	}
	if c.Op == filter.Eq {
		// Equal under strings.EqualFold exactly when their fold keys are.
		s := "r.fold_key = " + t.arg(store.FoldKey(lit), "text")
		if a.CaseExact {
			s = "(" + s + " AND r.name = " + t.arg(lit, "text") + ")"
		}
		return s, true, nil
	}
	// The other operators fold with strings.ToLower, as name_key is
	// folded: compare it (or name, when a is caseExact) exactly.
	x := operand{kind: textValue, sql: "r.name_key", collated: true}
	if a.CaseExact {
		x.sql = "r.name"
	}
	exact := *a
	exact.CaseExact = true
	switch c.Op {
	case filter.Sw:
		if end, ok := prefixEnd(key); ok { // a range, which the index answers
			return "(" + x.sql + " >= " + t.arg(key, "text") + " AND " + x.sql + " < " + t.arg(end, "text") + ")", true, nil
		}
	case filter.Lt, filter.Le:
		// A missing name is "", which is less than lit: check there is one.
		s, err := t.test(x, &exact, c.Op, key)
		name, _ := attrOperand("", a.Name)
		return "(" + s + " AND (r.name <> '' OR " + name.json() + " IS NOT NULL))", true, err
	}
	s, err := t.test(x, &exact, c.Op, key)
	return s, true, err
}

// prefixEnd returns the least valid UTF-8 string greater than every string
// that starts with p, if there is one: p with its last rune incremented,
// skipping surrogates. UTF-8 orders as the code points it encodes, so
// that the strings between p and the end are those starting with p.
func prefixEnd(p string) (string, bool) {
	for p != "" {
		r, n := utf8.DecodeLastRuneInString(p)
		p = p[:len(p)-n]
		switch {
		case r == utf8.MaxRune:
			continue
		case r == 0xD7FF:
			r = 0xE000
		default:
			r++
		}
		return p + string(r), true
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
			return "true", nil
		}
		if err := checkKey(urn); err != nil {
			return "", err
		}
		ext := "(r.attrs -> " + sqlString(urn) + ")"
		terms = append(terms, "COALESCE(jsonb_typeof("+ext+") = 'object' AND "+ext+" <> '{}'::jsonb, false)")
	}
	if len(terms) == 0 {
		return "false", nil
	}
	return "(" + strings.Join(terms, " OR ") + ")", nil
}

// isEmails reports whether ref names the core emails of a resource type
// whose resources have their email_keys column filled.
func (t *translator) isEmails(ref schema.Ref) bool {
	a := ref.Attr
	return ref.Extension == "" && a.Name == "emails" && a.Type == schema.Complex && a.MultiValued &&
		t.rt.Schema.Attribute("emails") == a
}

// withEmailKeys adds to cond, a condition that holds only for users with
// an email whose value folds to one of keys, that their email_keys hold
// one of them: implied by cond, so the result is the same, but the GIN
// index on email_keys can answer it. email_keys is NULL for a user without
// emails, so "IS NOT NULL" keeps the condition from being NULL.
func (t *translator) withEmailKeys(keys []string, cond string) string {
	return "(r.email_keys && " + t.arg(keys, "text[]") + " AND r.email_keys IS NOT NULL AND " + cond + ")"
}

// emailKeys returns fold keys of which an email value must have one for
// the filter e of emails[e] to hold, if it names any.
func emailKeys(e filter.Expr) ([]string, bool) {
	switch e := e.(type) {
	case *filter.And:
		if keys, ok := emailKeys(e.Left); ok {
			return keys, true
		}
		return emailKeys(e.Right)
	case *filter.Or:
		l, okl := emailKeys(e.Left)
		r, okr := emailKeys(e.Right)
		return append(l, r...), okl && okr
	case *filter.Compare:
		lit, ok := e.Value.(string)
		if ok && e.Op == filter.Eq && e.Attr.Ref.Sub != nil && e.Attr.Ref.Sub.Name == "value" {
			if key := store.FoldKey(lit); sendable(key) {
				return []string{key}, true
			}
		}
	}
	return nil, false
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
	x, err := attrOperand(ref.Extension, a.Name)
	if err != nil {
		return nil, err
	}
	j := x.json()
	vs := &attrValues{multi: a.MultiValued, present: present(x)}
	if a.MultiValued {
		e := t.alias("e")
		vs.exists = func(cond string) string {
			return "EXISTS (SELECT 1 FROM " + elements(j, e) + " WHERE jsonb_typeof(" + e + ".v) = 'object' AND " + cond + ")"
		}
		vs.sub = func(s *schema.Attribute) (operand, error) {
			return operand{sql: e + ".v", key: s.Name}, checkKey(s.Name)
		}
		return vs, nil
	}
	vs.exists = func(cond string) string {
		return "(COALESCE(jsonb_typeof(" + j + ") = 'object', false) AND " + cond + ")"
	}
	vs.sub = func(s *schema.Attribute) (operand, error) {
		return operand{sql: j, key: s.Name}, checkKey(s.Name)
	}
	return vs, nil
}

// metaValues returns meta, whose sub-attributes are columns; every
// resource has it.
func metaValues() *attrValues {
	return &attrValues{
		exists:  func(cond string) string { return cond },
		present: "true",
		sub: func(s *schema.Attribute) (operand, error) {
			switch s.Name {
			case "created":
				return operand{kind: timeValue, sql: "r.created"}, nil
			case "lastModified":
				return operand{kind: timeValue, sql: "r.last_modified"}, nil
			case "resourceType":
				return operand{kind: textValue, sql: "r.type", collated: true}, nil
			case "version":
				return operand{kind: textValue, sql: `('W/"' || r.version || '"')`}, nil
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
			return "EXISTS (SELECT 1 FROM " + membersFrom(m) + " AND " + cond + ")"
		},
		sub: func(s *schema.Attribute) (operand, error) {
			if col := memberColumn(m, s); col != "" {
				return operand{kind: textValue, sql: col, collated: true}, nil
			}
			return operand{}, unsupported("members.%s is not stored, so it cannot be filtered on", s.Name)
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

// groupValues returns a user's groups (see groupsQuery).
func (t *translator) groupValues() *attrValues {
	g := t.alias("g")
	join := false // whether display needs the group's row
	return &attrValues{
		multi: true,
		exists: func(cond string) string {
			return "EXISTS (" + groupsQuery(g, "1", join) + " WHERE " + cond + ")"
		},
		sub: func(s *schema.Attribute) (operand, error) {
			col := groupColumn(g, s)
			if col == "" {
				return operand{}, unsupported("groups.%s is not stored, so it cannot be filtered on", s.Name)
			}
			join = join || s.Name == "display"
			return operand{kind: textValue, sql: col, collated: s.Name != "type"}, nil
		},
		present: "EXISTS (SELECT 1 FROM members " + g + "p WHERE " + g + "p.directory_id = r.directory_id AND " + g + "p.member_id = r.id)",
	}
}

// groupsQuery returns a query of the groups the user r is a member of,
// directly or through nested groups (UNION ends the recursion on cycles),
// one row each, aliased gv: gv.id, and gv.direct when it is a member of
// the group itself. join adds the group's row, aliased gr, whose name is
// its display. The query selects sel and can take a WHERE clause.
func groupsQuery(g, sel string, join bool) string {
	m := g + "m"
	s := "WITH RECURSIVE " + g + "(id, direct) AS (" +
		"SELECT " + m + ".group_id, true FROM members " + m + " WHERE " + m + ".directory_id = r.directory_id AND " + m + ".member_id = r.id" +
		" UNION SELECT " + m + ".group_id, false FROM " + g + " JOIN members " + m +
		" ON " + m + ".directory_id = r.directory_id AND " + m + ".member_id = " + g + ".id)" +
		" SELECT " + sel + " FROM (SELECT id, bool_or(direct) AS direct FROM " + g + " GROUP BY id) AS " + g + "v"
	if join {
		s += " JOIN resources " + g + "r ON " + g + "r.directory_id = r.directory_id AND " + g + "r.id = " + g + "v.id"
	}
	return s
}

// groupColumn returns the SQL value of the sub-attribute s of a group of
// groupsQuery(g, …), or "".
func groupColumn(g string, s *schema.Attribute) string {
	switch s.Name {
	case "value":
		return g + "v.id"
	case "type":
		return "(CASE WHEN " + g + "v.direct THEN 'direct' ELSE 'indirect' END)"
	case "display":
		return g + "r.name"
	}
	return ""
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

func unsupported(format string, args ...any) error {
	return scim.BadRequest(scim.InvalidFilter, "unsupported filter: %s", fmt.Sprintf(format, args...))
}

// orderBy returns the ORDER BY terms for q: the sort value with missing
// values last (first when descending, the exact reverse, as
// resource.Compare orders them), then creation order for stable pages.
func orderBy(q store.Query) string {
	dir := ""
	if q.Descending {
		dir = " DESC"
	}
	if q.SortBy.Attr == nil {
		if q.Filter != nil {
			// "+ 0" keeps PostgreSQL from walking an index in seq order to
			// skip the sort, reading the directory until a page of rows
			// match, when the filter has an index of its own (userName
			// eq): sorting the matches is cheaper, and the count has read
			// them all anyway.
			return "r.seq + 0" + dir
		}
		return "r.seq" + dir
	}
	var terms []string
	for _, k := range sortKeys(q.Type, q.SortBy) {
		// PostgreSQL puts NULL last in ascending order and first in
		// descending order: a missing value is NULL.
		terms = append(terms, k+dir)
	}
	return strings.Join(append(terms, "r.seq"+dir), ", ")
}

// sortKeys returns the SQL values a resource sorts by, in order, as
// resource.Compare orders them: NULL when the resource has no value.
func sortKeys(rt *schema.ResourceType, ref schema.Ref) []string {
	leaf := ref.Leaf()
	if leaf.Type == schema.Complex {
		if leaf = leaf.SubAttribute("value"); leaf == nil {
			return nil
		}
		ref.Sub = leaf
	}
	x, keys := sortValue(rt, ref)
	if keys != nil || x.sql == "" {
		return keys
	}
	switch leaf.Type {
	case schema.DateTime:
		return []string{"scim_instant(" + x.text() + ")"}
	case schema.Integer, schema.Decimal, schema.Boolean:
		// jsonb orders numbers by value and false before true. A decimal
		// is the shortest text of a float64, and those order as the
		// float64s do.
		return []string{x.json()}
	}
	if leaf.CaseExact {
		return []string{x.collatedText()}
	}
	return []string{`scim_lower(` + x.text() + `) COLLATE "C"`, x.collatedText()}
}

// sortValue returns the value a resource sorts by, as resource.SortValue
// picks it: for a multi-valued attribute, the primary value's, else the
// first's (RFC 7644 §3.4.2.3); members and groups in the order the store
// returns them. Values in columns come with their sort keys instead; a
// value the store does not keep has neither.
func sortValue(rt *schema.ResourceType, ref schema.Ref) (operand, []string) {
	a := ref.Attr
	switch {
	case isCommon(a) && a.Name == "id":
		return operand{}, []string{"r.id"}
	case a == rt.Schema.Attribute(store.NameAttr(rt)):
		// name is "" when the attribute is missing, which sorts last.
		name, _ := attrOperand("", a.Name)
		missing := "(r.name = '' AND " + name.json() + " IS NULL)"
		if a.CaseExact {
			return operand{}, []string{missing, "r.name"}
		}
		return operand{}, []string{missing, "r.name_key", "r.name"}
	case isCommon(a) && a.Name == "meta":
		switch ref.Sub.Name {
		case "created":
			return operand{}, []string{"r.created"}
		case "lastModified":
			return operand{}, []string{"r.last_modified"}
		case "resourceType":
			return operand{}, []string{"r.type"}
		case "version":
			return operand{}, []string{`('W/"' || r.version || '"') COLLATE "C"`}
		}
		return operand{}, nil
	case ref.Extension == "" && a.Name == "members":
		if col := memberColumn("m", ref.Sub); col != "" {
			return operand{kind: textValue, sql: "(SELECT " + col + " FROM " + membersFrom("m") + " ORDER BY m.member_id LIMIT 1)"}, nil
		}
		return operand{}, nil
	case ref.Extension == "" && a.Name == "groups":
		if col := groupColumn("g", ref.Sub); col != "" {
			return operand{kind: textValue, sql: "(" + groupsQuery("g", col, ref.Sub.Name == "display") + " ORDER BY gv.id LIMIT 1)"}, nil
		}
		return operand{}, nil
	}
	x, err := attrOperand(ref.Extension, a.Name)
	if err != nil || ref.Sub != nil && checkKey(ref.Sub.Name) != nil {
		return operand{}, nil
	}
	switch {
	case a.MultiValued:
		v := "e.v"
		if ref.Sub != nil {
			v = "(e.v -> " + sqlString(ref.Sub.Name) + ")"
		}
		return operand{sql: "(SELECT " + v + " FROM jsonb_array_elements(" + arrayOf(x.json()) + ") WITH ORDINALITY AS e(v, i)" +
			" ORDER BY COALESCE(e.v -> 'primary' = 'true'::jsonb, false) DESC, e.i LIMIT 1)"}, nil
	case ref.Sub != nil:
		return operand{sql: x.json(), key: ref.Sub.Name}, nil
	}
	return x, nil
}
