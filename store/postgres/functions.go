package postgres

import (
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
// scim_lower and scim_fold map rune to rune, so they are translate() with
// tables that Go computes from its own unicode package when the store
// migrates: the database folds exactly as the Go that wrote the fold_key
// column does. Texts made of ASCII alone, most of them, take lower()
// under the "C" collation, which changes A–Z only, instead of searching
// the tables for each character.
//
// scim_instant is PL/pgSQL: it matches the forms time.Parse accepts for
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
	lowerFrom, lowerTo := runeMap(unicode.ToLower)
	foldFrom, foldTo := runeMap(func(r rune) rune {
		f, _ := utf8.DecodeRuneInString(store.FoldKey(string(r)))
		return f
	})
	var b strings.Builder
	textFunction(&b, "scim_lower", "strings.ToLower", lowerFrom, lowerTo)
	textFunction(&b, "scim_fold", "store.FoldKey", foldFrom, foldTo)
	b.WriteString(instantFunction)
	return b.String()
})

// runeMap returns the runes f changes, and what f makes of each, as two
// strings of the same length in runes: the arguments of translate().
// Surrogates are not runes of valid UTF-8, and NUL is not in any text
// PostgreSQL holds.
func runeMap(f func(rune) rune) (from, to string) {
	var fb, tb strings.Builder
	for r := rune(1); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		if m := f(r); m != r {
			fb.WriteRune(r)
			tb.WriteRune(m)
		}
	}
	return fb.String(), tb.String()
}

// textFunction writes a rune-mapping function. A text has only ASCII
// characters when it has as many bytes as characters. The function is
// LANGUAGE sql and not STRICT so that the planner can inline it.
func textFunction(b *strings.Builder, name, goName, from, to string) {
	b.WriteString("CREATE OR REPLACE FUNCTION " + name + "(x text) RETURNS text\n" +
		"LANGUAGE sql IMMUTABLE PARALLEL SAFE\n" +
		"AS $fn$ SELECT CASE WHEN octet_length(x) = char_length(x) THEN lower(x COLLATE \"C\")\n" +
		"ELSE translate(x, " + sqlString(from) + ",\n" + sqlString(to) + ") END $fn$;\n")
	b.WriteString("COMMENT ON FUNCTION " + name + "(text) IS " +
		sqlString(goName+" of a text, as Roster's Go code computes it") + ";\n")
}

// sqlString returns s as an SQL string literal. The texts it is given
// hold no backslash, so the literal means the same whatever
// standard_conforming_strings says.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// instantFunction creates scim_instant. The pattern's groups are year,
// month, day, hour, minute, second, fraction, and the sign, hours and
// minutes of the offset. days is the number of days from 1970-01-01 to
// the date in the proleptic Gregorian calendar (Howard Hinnant's
// days_from_civil), which time.Time uses too.
const instantFunction = `CREATE OR REPLACE FUNCTION scim_instant(x text) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $fn$
DECLARE
	m text[];
	y int; mo int; d int; h int; mi int; s int; mdays int;
	offs int := 0;
	nanos bigint := 0;
	era int; yoe int; doy int; days bigint;
BEGIN
	m := regexp_match(x, '^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:[.,]([0-9]+))?(?:Z|([-+])([0-9]{2}):([0-9]{2}))?$');
	IF m IS NULL THEN
		RETURN NULL;
	END IF;
	y := m[1]::int; mo := m[2]::int; d := m[3]::int;
	h := m[4]::int; mi := m[5]::int; s := m[6]::int;
	mdays := CASE
		WHEN mo = 2 AND y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0) THEN 29
		WHEN mo = 2 THEN 28
		WHEN mo IN (4, 6, 9, 11) THEN 30
		ELSE 31 END;
	IF mo < 1 OR mo > 12 OR d < 1 OR d > mdays OR h > 23 OR mi > 59 OR s > 59 THEN
		RETURN NULL;
	END IF;
	IF m[7] IS NOT NULL THEN
		nanos := rpad(left(m[7], 9), 9, '0')::bigint; -- digits past the ninth are dropped, not rounded
	END IF;
	IF m[8] IS NOT NULL THEN
		IF m[9]::int > 24 OR m[10]::int > 60 THEN
			RETURN NULL;
		END IF;
		offs := (m[9]::int * 60 + m[10]::int) * 60;
		IF m[8] = '-' THEN
			offs := -offs;
		END IF;
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
