package sqlite

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlfilter"
)

// where translates f, resolved against rt, into an SQL condition on the
// resources table aliased r (see sqlfilter.Where). Its arguments are
// appended to args, and its placeholders ($N, which modernc.org/sqlite
// binds to the argument with ordinal N) are numbered after them: the
// caller has the first len(args) (the directory, the type).
func where(f filter.Expr, rt *schema.ResourceType, args []any) (string, []any, error) {
	return sqlfilter.Where(filterSQL{}, f, rt, args)
}

// orderBy returns the ORDER BY terms for q (see sqlfilter.OrderBy).
func orderBy(q store.Query) (string, error) { return sqlfilter.OrderBy(filterSQL{}, q) }

// filterSQL is SQLite's sqlfilter.Dialect: attrs is JSON text, read with
// SQLite's JSON functions, in which JSON true and false are 1 and 0;
// texts compare byte by byte; times are instantKey texts; and strings are
// folded and dateTimes parsed by functions written in Go (see fold.go).
type filterSQL struct{}

// operand is an SQL expression for a value of an attribute.
type operand struct {
	// doc and keys place a value in JSON: the document (r.attrs, or an
	// object that json_each returned) and the keys of its path there,
	// which json_each, json_tree and json_type take as json_extract does.
	doc  string
	keys []string
	// sql is the value of an operand that is not in doc: a column, or a
	// row of json_each.
	sql string
	// typ is the JSON type of a row of json_each.
	typ string
	// notNull says the expression is never NULL (a NOT NULL column), so
	// a comparison with it needs no COALESCE, which would hide it from
	// the indexes.
	notNull bool
	// instant says a dateTime value is already an instantKey.
	instant bool
}

// located returns the arguments of json_extract, json_each, json_tree or
// json_type that reach the value x.
func (x operand) located() string {
	if x.doc == "" {
		return x.sql
	}
	return x.doc + ", " + jsonPath(x.keys...)
}

// value returns the SQL value of x: a JSON string, number or boolean as
// a text, a number or 1 and 0; NULL when there is no value.
func (x operand) value() string {
	if x.doc == "" {
		return x.sql
	}
	return "json_extract(" + x.located() + ")"
}

func (filterSQL) Attr(ext, name string) operand {
	return operand{doc: "r.attrs", keys: []string{ext, name}}
}

func (filterSQL) Sub(x operand, name string) operand {
	if x.doc == "" {
		return operand{doc: x.sql, keys: []string{name}}
	}
	return operand{doc: x.doc, keys: append(slices.Clip(x.keys), name)}
}

func (filterSQL) Each(x operand, alias string) (string, operand) {
	return "json_each(" + x.located() + ") AS " + alias, operand{sql: alias + ".value", typ: alias + ".type"}
}

// Primary tests the primary sub-attribute of objects only: json_extract
// fails on a text that is not JSON, as a string of json_each is.
func (filterSQL) Primary(x operand) operand {
	return operand{sql: "(SELECT e.value FROM json_each(" + x.located() + ") AS e" +
		` ORDER BY CASE WHEN e.type = 'object' THEN json_extract(e.value, '$."primary"') = 1 END DESC, e.key LIMIT 1)`}
}

func (filterSQL) Column(sql string, kind sqlfilter.Kind) operand {
	return operand{sql: sql, notNull: true, instant: kind == sqlfilter.Time}
}

func (filterSQL) Nullable(x operand) bool { return !x.notNull }

func (filterSQL) Type(x operand) string {
	if x.typ != "" {
		return x.typ
	}
	return "json_type(" + x.located() + ")"
}

func (filterSQL) NonEmptyObject(x operand) string {
	return "json_type(" + x.located() + ") = 'object' AND (" + x.doc + " -> " + jsonPath(x.keys...) + ") <> '{}'"
}

func (filterSQL) Present(x operand, a *schema.Attribute) string {
	switch {
	case x.notNull:
		return x.sql + " <> ''"
	case x.doc != "" && (a.MultiValued || a.Type == schema.Complex):
		// json_tree visits the value and everything inside it; atom is
		// NULL for null, and false and 0 are not ''.
		return "EXISTS (SELECT 1 FROM json_tree(" + x.located() + ") WHERE atom <> '')"
	}
	// A value that is not an empty string; false and 0 are values.
	return "COALESCE(" + x.value() + " <> '', false)"
}

func (filterSQL) CompareTime(x operand, op filter.Op, t time.Time, args *sqlfilter.Args) string {
	v := x.value()
	if !x.instant {
		v = "scim_instant(" + v + ")"
	}
	cmp := v + " " + sqlfilter.Operator(op) + " " + args.Add(instantKey(t))
	if !x.instant {
		return cmp
	}
	// A column (meta.lastModified, which an index holds) is bounded on
	// its other side too, by what every instant key is above or below:
	// SQLite's planner guesses that a range open on one side selects a
	// quarter of the directory, and would rather read the directory in
	// the page's order, to its end for "changed since an hour ago"; a
	// range closed on both sides it reads through the index.
	switch op {
	case filter.Gt, filter.Ge:
		return "(" + cmp + " AND " + v + " < '~~')"
	case filter.Lt, filter.Le:
		return "(" + cmp + " AND " + v + " >= '')"
	}
	return cmp
}

func (filterSQL) CompareBool(x operand, b bool) string {
	if b {
		return x.value() + " = 1" // JSON true and false are 1 and 0 in SQL
	}
	return x.value() + " = 0"
}

func (filterSQL) CompareInt(x operand, op filter.Op, n int64, args *sqlfilter.Args) string {
	return x.value() + " " + sqlfilter.Operator(op) + " " + args.Add(n)
}

// CompareFloat converts to REAL a decimal that SQLite read as an integer
// because it has no fraction, as it converts an integer, to the nearest.
func (filterSQL) CompareFloat(x operand, op filter.Op, f float64, args *sqlfilter.Args) string {
	return "CAST(" + x.value() + " AS REAL) " + sqlfilter.Operator(op) + " " + args.Add(f)
}

func (filterSQL) CompareText(x operand, op filter.Op, s string, exact bool, args *sqlfilter.Args) string {
	v := x.value()
	switch op {
	case filter.Eq:
		if exact {
			return v + " = " + args.Add(s)
		}
		return "scim_fold(" + v + ") = " + args.Add(store.FoldKey(s))
	case filter.Co, filter.Sw, filter.Ew:
		if s == "" {
			return v + " IS NOT NULL" // every string contains ""
		}
		if !exact {
			v, s = "scim_lower("+v+")", strings.ToLower(s)
		}
		// As blobs, so that positions and lengths count bytes and LIKE's
		// wildcards and ASCII-only folding stay out of it.
		v = "CAST(" + v + " AS BLOB)"
		n := strconv.Itoa(len(s))
		switch op {
		case filter.Co:
			return "instr(" + v + ", " + args.Add([]byte(s)) + ") > 0"
		case filter.Sw:
			return "substr(" + v + ", 1, " + n + ") = " + args.Add([]byte(s))
		}
		return "substr(" + v + ", -" + n + ") = " + args.Add([]byte(s))
	}
	// SQLite compares texts byte by byte, as strings.Compare does.
	if exact {
		return v + " " + sqlfilter.Operator(op) + " " + args.Add(s)
	}
	return "scim_lower(" + v + ") " + sqlfilter.Operator(op) + " " + args.Add(strings.ToLower(s))
}

// Sendable is true: SQLite takes any string as a text, NUL and invalid
// UTF-8 included.
func (filterSQL) Sendable(string) bool { return true }

// nameLookup reports whether f is the lookup of a name (a user's
// userName, a group's displayName) that NameEq answers from the unique
// index on folded names: one resource at most (Okta and Entra look users
// up so). Reading its page needs no materializing (see
// sqlstore.Dialect.Materialize): there is no index order to walk. "",
// which is left to attrs, is not one.
func nameLookup(f filter.Expr, rt *schema.ResourceType) bool {
	c, ok := f.(*filter.Compare)
	if !ok || c.Op != filter.Eq {
		return false
	}
	ref := c.Attr.Ref
	if ref.Extension != "" || ref.Attr == nil || ref.Sub != nil || ref.Attr.Name != store.NameAttr(rt) {
		return false
	}
	lit, _ := c.Value.(string)
	return lit != ""
}

// NameEq looks lit up in the unique index on fold_key, store.FoldKey of
// the name: two names are equal under strings.EqualFold, as eq compares
// them, exactly when their keys are. A case-exact name must also be lit
// byte for byte.
func (filterSQL) NameEq(lit string, exact bool, args *sqlfilter.Args) string {
	s := "r.fold_key = " + args.Add(store.FoldKey(lit))
	if exact {
		s = "(" + s + " AND r.name = " + args.Add(lit) + ")"
	}
	return s
}

func (filterSQL) PrefixEnd(p string) (string, bool) { return prefixEnd(p) }

// prefixEnd returns the least string greater than every string that
// starts with p, if there is one, comparing bytes as SQLite does.
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

// ExternalIDEq compares with IS, which is false, not NULL, where the
// column is NULL, and which the index answers.
func (filterSQL) ExternalIDEq(lit string, args *sqlfilter.Args) string {
	return "r.external_id IS " + args.Add(lit)
}

// Groups recurses through nested groups with UNION, which ends the
// recursion on cycles. CROSS JOIN keeps the recursive row the outer loop,
// so that each step is an index lookup, not a scan of the directory.
func (filterSQL) Groups(g, sel string, join bool) string {
	m := g + "m"
	s := "WITH RECURSIVE " + g + "(id, direct) AS (" +
		"SELECT " + m + ".group_id, 1 FROM members " + m + " WHERE " + m + ".directory_id = r.directory_id AND " + m + ".member_id = r.id" +
		" UNION SELECT " + m + ".group_id, 0 FROM " + g + " CROSS JOIN members " + m +
		" WHERE " + m + ".directory_id = r.directory_id AND " + m + ".member_id = " + g + ".id)" +
		" SELECT " + sel + " FROM (SELECT id, max(direct) AS direct FROM " + g + " GROUP BY id) AS " + g + "v"
	if join {
		s += " JOIN resources " + g + "r ON " + g + "r.directory_id = r.directory_id AND " + g + "r.id = " + g + "v.id"
	}
	return s
}

// WithEmailKeys adds that the user is one of those whose email keys the
// table resource_emails (written by each insert, dialect.IndexEmails, and
// kept by triggers on update and delete) holds one of keys: its primary
// key finds them, and SQLite then looks each up by (directory_id, id),
// instead of reading every user's emails
// (TestEmailFilterUsesTheEmailIndex).
func (filterSQL) WithEmailKeys(keys []string, cond string, args *sqlfilter.Args) string {
	marks := make([]string, len(keys))
	for i, k := range keys {
		marks[i] = args.Add(k)
	}
	return "((r.directory_id, r.id) IN (SELECT k.directory_id, k.resource_id FROM resource_emails k WHERE k.email_key IN (" +
		strings.Join(marks, ", ") + ") AND k.directory_id = " + args.Directory() + ") AND " + cond + ")"
}

// SortKeys puts "IS NULL" first: SQLite sorts NULL first in ascending
// order, where a missing value is to go last.
func (filterSQL) SortKeys(x operand, a *schema.Attribute) []string {
	v := x.value()
	var folded []string
	switch a.Type {
	case schema.DateTime:
		v = "scim_instant(" + v + ")"
	case schema.Integer, schema.Decimal, schema.Boolean:
		// SQLite orders numbers by value, whether it read them as
		// integers or reals, and false (0) before true (1).
	default:
		if !a.CaseExact {
			folded = []string{"scim_lower(" + v + ")"}
		}
	}
	return slices.Concat([]string{"(" + v + ") IS NULL"}, folded, []string{v})
}

// jsonPath returns, as an SQL string literal, the JSON path of the object
// keys given, skipping empty ones: '$."urn:…:User"."manager"'. The keys
// hold no '"' nor '\' (see sqlfilter.Dialect).
func jsonPath(keys ...string) string {
	var b strings.Builder
	b.WriteString("'$")
	for _, k := range keys {
		if k == "" {
			continue
		}
		b.WriteString(`."`)
		b.WriteString(strings.ReplaceAll(k, "'", "''"))
		b.WriteString(`"`)
	}
	b.WriteString("'")
	return b.String()
}
