package postgres

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlfilter"
)

// where translates f, resolved against rt, into an SQL condition on the
// resources table aliased r (see sqlfilter.Where). Its arguments are
// appended to args, and its placeholders are numbered after them: the
// caller has the first len(args) (the directory, the type).
func where(f filter.Expr, rt *schema.ResourceType, args []any) (string, []any, error) {
	return sqlfilter.Where(filterSQL{}, f, rt, args)
}

// orderBy returns the ORDER BY terms for q (see sqlfilter.OrderBy).
func orderBy(q store.Query) (string, error) { return sqlfilter.OrderBy(filterSQL{}, q) }

// filterSQL is PostgreSQL's sqlfilter.Dialect: attrs is jsonb, texts are
// valid UTF-8 without NUL and are compared in the "C" collation, times
// are timestamptz with microseconds, and the indexes are those of
// migrations/00001_init.sql, email_keys among them.
type filterSQL struct{}

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

func (filterSQL) Attr(ext, name string) operand {
	base := "r.attrs"
	if ext != "" {
		base = "(r.attrs -> " + sqlString(ext) + ")"
	}
	return operand{sql: base, key: name}
}

func (filterSQL) Sub(x operand, name string) operand { return operand{sql: x.json(), key: name} }

func (filterSQL) Each(x operand, alias string) (string, operand) {
	return "jsonb_array_elements(" + arrayOf(x.json()) + ") AS " + alias + "(v)", operand{sql: alias + ".v"}
}

// arrayOf returns the jsonb value j as an array: j itself if it is one,
// NULL if there is no value, else an array of j alone.
func arrayOf(j string) string {
	return "CASE WHEN jsonb_typeof(" + j + ") = 'array' THEN " + j +
		" WHEN jsonb_typeof(" + j + ") <> 'null' THEN jsonb_build_array(" + j + ") END"
}

func (filterSQL) Primary(x operand) operand {
	return operand{sql: "(SELECT e.v FROM jsonb_array_elements(" + arrayOf(x.json()) + ") WITH ORDINALITY AS e(v, i)" +
		" ORDER BY COALESCE(e.v -> 'primary' = 'true'::jsonb, false) DESC, e.i LIMIT 1)"}
}

func (filterSQL) Column(sql string, kind sqlfilter.Kind) operand {
	switch kind {
	case sqlfilter.Time:
		return operand{kind: timeValue, sql: sql}
	case sqlfilter.Computed:
		return operand{kind: textValue, sql: sql}
	}
	return operand{kind: textValue, sql: sql, collated: true}
}

func (filterSQL) Nullable(x operand) bool { return x.kind == jsonValue }

func (filterSQL) Type(x operand) string { return "jsonb_typeof(" + x.json() + ")" }

func (filterSQL) NonEmptyObject(x operand) string {
	j := x.json()
	return "jsonb_typeof(" + j + ") = 'object' AND " + j + " <> '{}'::jsonb"
}

// presentPath selects, among a JSON value and everything inside it, what
// filter.Present counts as a value: anything but null, "", and lists and
// objects of nothing else.
const presentPath = `'strict $.** ? (@.type() == "number" || @.type() == "boolean" || @.type() == "string" && @ != "")'`

func (filterSQL) Present(x operand, _ *schema.Attribute) string {
	switch x.kind {
	case textValue:
		return x.sql + " <> ''"
	case timeValue:
		return "true"
	}
	return "COALESCE(jsonb_path_exists(" + x.json() + ", " + presentPath + "), false)"
}

// arg appends v to args and returns its placeholder, cast to the SQL type
// typ so that PostgreSQL need not infer it.
func arg(args *sqlfilter.Args, v any, typ string) string { return args.Add(v) + "::" + typ }

func (filterSQL) CompareTime(x operand, op filter.Op, t time.Time, args *sqlfilter.Args) string {
	if x.kind == timeValue {
		return timeCmp(x.sql, op, t, args)
	}
	return "scim_instant(" + x.text() + ") " + sqlfilter.Operator(op) + " " + arg(args, instantKey(t), "numeric")
}

// timeCmp compares a timestamptz column, whose values have microseconds,
// with lit, which may have nanoseconds. Against the microsecond tr that
// lit truncates to, a column value c < lit exactly when c <= tr, when lit
// has more digits than tr, and c > lit exactly when c > tr.
func timeCmp(col string, op filter.Op, lit time.Time, args *sqlfilter.Args) string {
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
	return col + " " + sqlfilter.Operator(op) + " " + arg(args, tr, "timestamptz")
}

func (filterSQL) CompareBool(x operand, b bool) string {
	return x.json() + " = '" + strconv.FormatBool(b) + "'::jsonb"
}

// number returns the jsonb value x as the SQL type typ, NULL when it is not
// a number.
func number(x operand, typ string) string {
	j := x.json()
	return "(CASE WHEN jsonb_typeof(" + j + ") = 'number' THEN (" + j + ")::" + typ + " END)"
}

func (filterSQL) CompareInt(x operand, op filter.Op, n int64, args *sqlfilter.Args) string {
	return number(x, "numeric") + " " + sqlfilter.Operator(op) + " " + arg(args, n, "bigint")
}

// CompareFloat converts a numeric to float8 as PostgreSQL does, by strtod
// on its text, which rounds to nearest as Go does.
func (filterSQL) CompareFloat(x operand, op filter.Op, f float64, args *sqlfilter.Args) string {
	return number(x, "float8") + " " + sqlfilter.Operator(op) + " " + arg(args, f, "float8")
}

func (filterSQL) CompareText(x operand, op filter.Op, s string, exact bool, args *sqlfilter.Args) string {
	switch op {
	case filter.Eq:
		if !exact {
			s = store.FoldKey(s)
		}
		if !sendable(s) {
			return "false" // no text PostgreSQL holds, nor its key, is equal to it
		}
		if exact {
			return x.text() + " = " + arg(args, s, "text")
		}
		return "scim_fold(" + x.text() + ") = " + arg(args, s, "text")
	case filter.Co, filter.Sw, filter.Ew:
		if s == "" { // every string contains ""
			if x.kind == jsonValue {
				return "jsonb_typeof(" + x.json() + ") = 'string'"
			}
			return "true"
		}
	}
	v := x.collatedText()
	if !exact {
		v, s = `scim_lower(`+x.text()+`) COLLATE "C"`, strings.ToLower(s)
	}
	if !sendable(s) {
		return bytesCmp(v, op, s, args)
	}
	// PostgreSQL texts are valid UTF-8, and so is s: one is a substring of
	// the other as characters exactly when it is as bytes, as Go compares.
	switch op {
	case filter.Co:
		return "strpos(" + v + ", " + arg(args, s, "text") + ") > 0"
	case filter.Sw:
		return "starts_with(" + v + ", " + arg(args, s, "text") + ")"
	case filter.Ew:
		return "right(" + v + ", " + strconv.Itoa(utf8.RuneCountInString(s)) + ") = " + arg(args, s, "text")
	}
	// The "C" collation compares texts byte by byte, as strings.Compare.
	return v + " " + sqlfilter.Operator(op) + " " + arg(args, s, "text")
}

func (filterSQL) Sendable(s string) bool { return sendable(s) }

// sendable reports whether PostgreSQL can take s as a text: valid UTF-8
// without NUL.
func sendable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// bytesCmp compares the text v with a literal that cannot be sent as a
// text (it holds NUL, or is not valid UTF-8) as their bytes, which is what
// Go compares.
func bytesCmp(v string, op filter.Op, lit string, args *sqlfilter.Args) string {
	b, l := "convert_to("+v+", 'UTF8')", arg(args, []byte(lit), "bytea")
	n := strconv.Itoa(len(lit))
	switch op {
	case filter.Co:
		return "position(" + l + " in " + b + ") > 0"
	case filter.Sw:
		return "substr(" + b + ", 1, " + n + ") = " + l
	case filter.Ew:
		return "substr(" + b + ", greatest(octet_length(" + b + ") - " + n + " + 1, 1)) = " + l
	}
	return b + " " + sqlfilter.Operator(op) + " " + l
}

// NameEq compares r.fold_key, store.FoldKey of r.name: two names are equal
// under strings.EqualFold exactly when their fold keys are.
func (filterSQL) NameEq(lit string, exact bool, args *sqlfilter.Args) string {
	s := "r.fold_key = " + arg(args, store.FoldKey(lit), "text")
	if exact {
		s = "(" + s + " AND r.name = " + arg(args, lit, "text") + ")"
	}
	return s
}

func (filterSQL) PrefixEnd(p string) (string, bool) { return prefixEnd(p) }

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

// ExternalIDEq writes "IS NOT NULL", which makes the condition false, not
// NULL, where the column is NULL, and leaves "=" to the index.
func (filterSQL) ExternalIDEq(lit string, args *sqlfilter.Args) string {
	return "(r.external_id = " + arg(args, lit, "text") + " AND r.external_id IS NOT NULL)"
}

// Groups recurses through nested groups with UNION, which ends the
// recursion on cycles.
func (filterSQL) Groups(g, sel string, join bool) string {
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

// WithEmailKeys adds that the user is one of those whose email_keys hold
// one of keys, which the GIN index on email_keys finds. They are looked
// up once, ahead of the query (an ARRAY of a subquery is an InitPlan),
// and the page then reads them by id: PostgreSQL estimates an array
// overlap at 0.5 % of the rows whatever the keys, 5,000 of a million
// users, and with the condition on the row itself it would rather walk a
// cursor page's seq order until it found one (0.32 s at a million users,
// against 0.5 ms). The lookup is of the directory's users alone: a key
// that a million users of other directories share must not make the
// query read them.
func (filterSQL) WithEmailKeys(keys []string, cond string, args *sqlfilter.Args) string {
	return "(r.id = ANY(ARRAY(SELECT k.id FROM resources k WHERE k.directory_id = " + args.Directory() +
		" AND k.email_keys && " + arg(args, keys, "text[]") + ")) AND " + cond + ")"
}

// SortKeys relies on PostgreSQL putting NULL last in ascending order and
// first in descending order, where a missing value is to go.
func (filterSQL) SortKeys(x operand, a *schema.Attribute) []string {
	switch a.Type {
	case schema.DateTime:
		return []string{"scim_instant(" + x.text() + ")"}
	case schema.Integer, schema.Decimal, schema.Boolean:
		// jsonb orders numbers by value and false before true. A decimal
		// is the shortest text of a float64, and those order as the
		// float64s do.
		return []string{x.json()}
	}
	if a.CaseExact {
		return []string{x.collatedText()}
	}
	return []string{`scim_lower(` + x.text() + `) COLLATE "C"`, x.collatedText()}
}
