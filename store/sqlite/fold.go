package sqlite

import (
	"database/sql/driver"
	"strings"
	"sync"
	"time"

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
