package postgres

import (
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/rosterhq/roster/store"
)

// The SQL that where and orderBy write calls three functions of its own,
// because PostgreSQL's own would not compare as filter.Match does: lower()
// follows the database's locale and Unicode version, not Go's, and its
// date types keep microseconds and reject the year 0000.
//
//	scim_lower(x)   strings.ToLower of a text, as filters compare strings
//	                with co, sw, ew and the ordering operators
//	scim_fold(x)    store.FoldKey of a text: two texts are equal under
//	                strings.EqualFold, as eq compares them, exactly when
//	                their keys are
//	scim_instant(x) instantKey of a dateTime text, or NULL when
//	                schema.ParseDateTime rejects it
//
// scim_lower and scim_fold map rune to rune, with tables that Go computes
// from its own unicode package when the store migrates: the database folds
// exactly as the Go that wrote the fold_key column does. A text of ASCII
// alone, most of them, takes lower() under the "C" collation, which
// changes A–Z only; another looks each of its non-ASCII characters up in
// a jsonb object, a binary search. (translate() with the whole table, the
// obvious way, searches it linearly for every character: 100µs for a
// short name, against 5µs.) They are PL/pgSQL so that the planner does not
// inline them, which would put the tables in every EXPLAIN.
//
// scim_instant is PL/pgSQL too: it matches the forms time.Parse accepts for
// schema.ParseDateTime (RFC 3339 with a fraction of any length, a comma
// for its point, a one-digit hour, offsets up to ±24:60, no zone meaning
// UTC), checks the ranges time.Parse checks, and computes the instant
// with integer arithmetic, so that years 0000 and 10000, which offsets
// reach, and nanoseconds are exact.

// functionsSQL returns the statements that create, or replace, the
// functions above. The store runs them at migration time, after the
// migrations; they are idempotent.
func functionsSQL() string { return functions() }

var functions = sync.OnceValue(func() string {
	var b strings.Builder
	mapFunction(&b, "scim_lower", "strings.ToLower", unicode.ToLower)
	mapFunction(&b, "scim_fold", "store.FoldKey", func(r rune) rune {
		f, _ := utf8.DecodeRuneInString(store.FoldKey(string(r)))
		return f
	})
	b.WriteString(instantFunction)
	b.WriteString(retryFunction)
	return b.String()
})

// mapFunction writes the function name, which maps each rune of a text
// with f, as the Go function goName does. f must change ASCII runes as
// lower() under the "C" collation does: A–Z to a–z.
func mapFunction(b *strings.Builder, name, goName string, f func(rune) rune) {
	fmt.Fprintf(b, `CREATE OR REPLACE FUNCTION %s(x text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
DECLARE
	c text;
	out text[] := ARRAY[]::text[];
BEGIN
	IF octet_length(x) = char_length(x) THEN
		RETURN lower(x COLLATE "C");
	END IF;
	-- array_append keeps the loop linear in the length of x.
	FOREACH c IN ARRAY string_to_array(lower(x COLLATE "C"), NULL) LOOP
		out := array_append(out, CASE WHEN octet_length(c) = 1 THEN c ELSE COALESCE(%s::jsonb ->> c, c) END);
	END LOOP;
	RETURN array_to_string(out, '');
END
$fn$;
COMMENT ON FUNCTION %s(text) IS %s;
`, name, sqlString(runeMap(f)), name, sqlString(goName+" of a text, as Roster's Go code computes it"))
}

// runeMap returns, as a JSON object, what f makes of each non-ASCII rune
// it changes. Surrogates are not runes of valid UTF-8. The runes are
// letters and the like, never '"', '\\' or a control character, so they
// need no escapes in JSON, nor in an SQL string literal.
func runeMap(f func(rune) rune) string {
	var b strings.Builder
	b.WriteByte('{')
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		if m := f(r); m != r {
			if b.Len() > 1 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"%c":"%c"`, r, m)
		}
	}
	b.WriteByte('}')
	return b.String()
}

// sqlString returns s as an SQL string literal. The texts it is given
// hold no backslash, so the literal means the same whatever
// standard_conforming_strings says.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// retryFunction creates roster_retry, which fails the statement that
// calls it with a serialization failure, so that InTx runs the
// transaction again (see querier.QueryRowAtCommit).
const retryFunction = `CREATE OR REPLACE FUNCTION roster_retry(why text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'serialization_failure', MESSAGE = why;
END
$$;
`

// instantFunction creates scim_instant. It matches the text against a
// pattern without capturing groups (PostgreSQL's regular expressions are
// ten times slower with them), then takes the fields apart: the date is
// fixed-width, the zone is at the end, and colons split the time. days is
// the number of days from 1970-01-01 to the date in the proleptic
// Gregorian calendar (Howard Hinnant's days_from_civil), which time.Time
// uses too.
const instantFunction = `CREATE OR REPLACE FUNCTION scim_instant(x text) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$
DECLARE
	t text := substr(x, 12); -- the time, after the T
	y int; mo int; d int; h int; mi int; s int; mdays int;
	offs int := 0;
	nanos bigint := 0;
	era int; yoe int; doy int; days bigint;
BEGIN
	IF x !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{1,2}:[0-9]{2}:[0-9]{2}([.,][0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})?$' THEN
		RETURN NULL;
	END IF;
	IF right(t, 1) = 'Z' THEN
		t := left(t, -1);
	ELSIF substr(t, length(t) - 5, 1) IN ('+', '-') THEN
		IF substr(t, length(t) - 4, 2)::int > 24 OR right(t, 2)::int > 60 THEN
			RETURN NULL;
		END IF;
		offs := (substr(t, length(t) - 4, 2)::int * 60 + right(t, 2)::int) * 60;
		IF substr(t, length(t) - 5, 1) = '-' THEN
			offs := -offs;
		END IF;
		t := left(t, -6);
	END IF;
	y := substr(x, 1, 4)::int; mo := substr(x, 6, 2)::int; d := substr(x, 9, 2)::int;
	h := split_part(t, ':', 1)::int; mi := split_part(t, ':', 2)::int;
	t := split_part(t, ':', 3); -- the seconds, and their fraction after a point or a comma
	s := left(t, 2)::int;
	IF length(t) > 3 THEN
		nanos := rpad(substr(t, 4, 9), 9, '0')::bigint; -- digits past the ninth are dropped, not rounded
	END IF;
	mdays := CASE
		WHEN mo = 2 AND y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0) THEN 29
		WHEN mo = 2 THEN 28
		WHEN mo IN (4, 6, 9, 11) THEN 30
		ELSE 31 END;
	IF mo < 1 OR mo > 12 OR d < 1 OR d > mdays OR h > 23 OR mi > 59 OR s > 59 THEN
		RETURN NULL;
	END IF;
	IF mo <= 2 THEN
		y := y - 1;
	END IF;
	era := CASE WHEN y >= 0 THEN y ELSE y - 399 END / 400;
	yoe := y - era * 400;
	doy := (153 * (mo + CASE WHEN mo > 2 THEN -3 ELSE 9 END) + 2) / 5 + d - 1;
	days := era * 146097::bigint + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
	RETURN (days * 86400 + h * 3600 + mi * 60 + s - offs)::numeric * 1000000000 + nanos;
END
$fn$;
COMMENT ON FUNCTION scim_instant(text) IS 'The instant of an xsd:dateTime text as Roster parses it, in nanoseconds since 1970, or NULL';
`

// instantKey returns the key scim_instant computes for the dateTime t:
// nanoseconds since 1970-01-01T00:00:00Z, as a numeric argument.
func instantKey(t time.Time) pgtype.Numeric {
	n := new(big.Int).Mul(big.NewInt(t.Unix()), big.NewInt(1e9))
	n.Add(n, big.NewInt(int64(t.Nanosecond())))
	return pgtype.Numeric{Int: n, Valid: true}
}
