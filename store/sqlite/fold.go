package sqlite

import (
	"database/sql/driver"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	sqlite3 "modernc.org/sqlite"

	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlstore"
)

// The SQL that where writes calls three functions written in Go, because
// SQLite cannot do what filter.Match does: its lower() folds ASCII only and
// its date functions keep milliseconds.
//
//	scim_lower(x)   strings.ToLower of a text, as filters compare strings
//	                with co, sw, ew and the ordering operators
//	scim_fold(x)    foldKey of a text: two texts are equal under
//	                strings.EqualFold, as eq compares them, exactly when
//	                their keys are
//	scim_instant(x) instantKey of a dateTime text, or NULL if it is none
//
// scim_lower and scim_fold return NULL for a blob (no attribute value is
// one) and any other value but a text unchanged.
var registerOnce sync.Once

// registerFunctions registers the functions above with the driver. The
// driver's registry of functions is process-wide, like sql.Register's
// registry of drivers, and registering a name twice fails; so they are
// registered once, before the first connection is opened, and every
// connection the driver opens afterwards has them.
func registerFunctions() {
	registerOnce.Do(func() {
		text := func(f func(string) string) func(driver.Value) driver.Value {
			return func(v driver.Value) driver.Value {
				switch v := v.(type) {
				case string:
					return f(v)
				case []byte:
					return nil
				}
				return v
			}
		}
		registerFunction("scim_lower", text(strings.ToLower))
		registerFunction("scim_fold", text(store.FoldKey))
		registerFunction("scim_instant", func(v driver.Value) driver.Value {
			s, _ := v.(string)
			t, err := schema.ParseDateTime(s)
			if err != nil {
				return nil
			}
			return instantKey(t)
		})
	})
}

// registerFunction registers f as a deterministic SQL function of one argument.
func registerFunction(name string, f func(driver.Value) driver.Value) {
	// VolatileArgs hands f a text's exact bytes (a copy would end at the
	// first NUL) in SQLite's memory; f keeps nothing, and the result is
	// cloned so that it never aliases that memory.
	err := sqlite3.RegisterFunction(name, &sqlite3.FunctionImpl{
		NArgs:         1,
		Deterministic: true,
		VolatileArgs:  true,
		Scalar: func(_ *sqlite3.FunctionContext, args []driver.Value) (driver.Value, error) {
			v := f(args[0])
			if s, ok := v.(string); ok {
				v = strings.Clone(s)
			}
			return v, nil
		},
	})
	if err != nil {
		panic("sqlite: " + err.Error())
	}
}

// lowerVariants returns strings.ToLower of every string that equals s
// under strings.EqualFold, at most max of them; ok is false when there are
// more. A rune whose folding orbit has one lower case (most of them) yields
// one variant, so there are usually few: "Jessica" has four, as "s" and
// "ſ" fold together but lower-case apart.
//
// The lower case of a run of runes with one lower case each is made once
// and appended to every variant; the variants are copied only at a rune
// with several (at most log2(max) times). The cost is linear in len(s)
// times the number of variants: a value of a megabyte costs milliseconds,
// where building each variant anew at every rune cost minutes.
func lowerVariants(s string, max int) (variants []string, ok bool) {
	bufs := [][]byte{make([]byte, 0, len(s))}
	run := make([]byte, 0, len(s)) // lower cases not yet in bufs
	// No folding orbit has more than three lower cases (Unicode 15).
	var orbit [4]rune
	// one says, per ASCII byte, whether it has one lower case (1) or
	// several (-1), once known: an ASCII run costs a lookup a byte.
	var one [utf8.RuneSelf]int8
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if one[c] == 0 {
				one[c] = -1
				if len(lowerCases(rune(c), orbit[:0])) == 1 {
					one[c] = 1
				}
			}
			if one[c] == 1 {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				run = append(run, c)
				i++
				continue
			}
		}
		// An invalid byte is utf8.RuneError, as in strings.ToLower.
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		lowers := lowerCases(r, orbit[:0])
		if len(lowers) == 1 {
			run = utf8.AppendRune(run, lowers[0])
			continue
		}
		if len(bufs)*len(lowers) > max {
			return nil, false
		}
		next := make([][]byte, 0, len(bufs)*len(lowers))
		for _, b := range bufs {
			b = append(b, run...)
			for _, l := range lowers {
				next = append(next, utf8.AppendRune(append(make([]byte, 0, cap(b)), b...), l))
			}
		}
		bufs, run = next, run[:0]
	}
	variants = make([]string, len(bufs))
	for i, b := range bufs {
		variants[i] = string(append(b, run...))
	}
	return variants, true
}

// lowerCases appends to lowers the distinct lower cases of the runes that
// fold together with r, r's own first.
func lowerCases(r rune, lowers []rune) []rune {
	lowers = append(lowers, unicode.ToLower(r))
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if l := unicode.ToLower(f); !slices.Contains(lowers, l) {
			lowers = append(lowers, l)
		}
	}
	return lowers
}

// instantKey returns the text form of t that the store keeps times in
// (sqlstore.TimeFormat: UTC, fixed width), so that text order is time order. The
// few instants that a dateTime with an offset can reach outside the years
// 0000–9999 keep that order too: year -1 formats as "-0001-…", which sorts
// first, and year 10000 is given a "~" prefix, which sorts last.
func instantKey(t time.Time) string {
	t = t.UTC()
	s := t.Format(sqlstore.TimeFormat)
	if t.Year() > 9999 {
		s = "~" + s
	}
	return s
}
