package postgres

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/store/storetest"
)

// FuzzWhereMatchesFilterMatch is TestWhereMatchesFilterMatch for any
// filter: one that parses either becomes SQL that PostgreSQL runs without
// error and that selects exactly what filter.Match selects, or is a 400
// invalidFilter. Its seeds (every filter of the tables) run in go test.
func FuzzWhereMatchesFilterMatch(f *testing.F) {
	fx := newFilterFixture(f)
	for _, list := range [][]string{storetest.RFCUserFilters, storetest.UserFilters, postgresUserFilters} {
		for _, src := range list {
			f.Add(src, false)
		}
	}
	for _, list := range [][]string{storetest.GroupFilters, postgresGroupFilters} {
		for _, src := range list {
			f.Add(src, true)
		}
	}
	f.Fuzz(func(t *testing.T, src string, groups bool) {
		rt := fx.users
		if groups {
			rt = fx.groups
		}
		expr, err := filter.Parse(src, rt)
		if err != nil {
			return
		}
		cond, args, err := where(expr, rt, []any{"d1", rt.Name})
		if err != nil {
			var se *scim.Error
			if !errors.As(err, &se) || se.Status != http.StatusBadRequest || se.ScimType != scim.InvalidFilter {
				t.Fatalf("%s: %v, want a 400 invalidFilter", src, err)
			}
			return
		}
		got := fx.selectIDs(t, rt, cond, args)
		if want := fx.data.Match(rt, expr); !slices.Equal(got, want) {
			t.Fatalf("%s:\nSQL selects %v\nMatch selects %v\nSQL: %s\nargs: %q", src, got, want, cond, args)
		}
	})
}
