package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store/sqlstore"
	"github.com/rosterhq/roster/store/storetest"
)

// nulUser is the fixture's user that SQLite holds and PostgreSQL cannot:
// one with a NUL in its userName.
var nulUser = storetest.FilterUser{ID: "u-nul", Modified: "2024-03-06T00:00:00Z", Version: 1,
	Body: `{"userName": "nul\u0000byte", "title": "nul\u0000"}`}

// filterDialect is SQLite's part in storetest's filter tests: the store
// keeps nanoseconds, and holds nulUser.
var filterDialect = storetest.FilterDialect{
	Open:      func(t testing.TB) sqlstore.Dialect { return openFilterDB(t) },
	Precision: time.Nanosecond,
	User:      nulUser,
}

// TestFilters holds where and orderBy to filter.Match and
// resource.Compare (see storetest.RunFilters).
func TestFilters(t *testing.T) { storetest.RunFilters(t, filterDialect) }

// FuzzWhereMatchesFilterMatch is TestFilters's WhereMatchesFilterMatch for
// any filter (see storetest.FuzzFilters). Its seeds run in go test.
func FuzzWhereMatchesFilterMatch(f *testing.F) { storetest.FuzzFilters(f, filterDialect) }

// openFilterDB returns the store's dialect on a new database file with
// the tables of the migrations, reading and writing on one pool.
func openFilterDB(t testing.TB) *dialect {
	t.Helper()
	registerFunctions()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "filter.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return &dialect{db: db, w: db}
}

// TestWhereUsesIndexes checks with EXPLAIN QUERY PLAN that the lookups
// clients make most are answered through an index, not by a scan.
func TestWhereUsesIndexes(t *testing.T) {
	d := openFilterDB(t)
	fx := storetest.NewFilterFixture(t, time.Nanosecond, nulUser)
	fx.Load(t, d)
	tests := []struct {
		filter string
		index  string
	}{
		{`userName eq "bjensen"`, "USING INDEX resources_fold_key"},
		{`userName eq "Jessica@example.com"`, "USING INDEX resources_fold_key"},
		// Six s: 2⁶ lower-case spellings, with ſ, but one fold key.
		{`userName eq "Sessions.Assistants@example.com"`, "USING INDEX resources_fold_key"},
		{`userName sw "bj"`, "USING INDEX resources_name"},
		{`externalId eq "bjensen"`, "USING INDEX resources_external_id"},
		{`id eq "u-bjensen"`, "USING INDEX sqlite_autoindex_resources_1"},
		{`meta.lastModified gt "2020-01-01T00:00:00Z"`, "USING INDEX resources_last_modified"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := filter.Parse(tt.filter, fx.Users)
			if err != nil {
				t.Fatal(err)
			}
			cond, args, err := where(f, fx.Users, []any{"d1", "User"})
			if err != nil {
				t.Fatal(err)
			}
			text := queryPlan(t, d.db, `SELECT r.id FROM resources r WHERE r.directory_id = $1 AND r.type = $2 AND (`+cond+`)`, args...)
			if !strings.Contains(text, "SEARCH r "+tt.index) || strings.Contains(text, "SCAN r") {
				t.Errorf("plan for %s:\n%s\nwant SEARCH r %s", cond, text, tt.index)
			}
		})
	}
}

// TestInstantKeyOrder checks that instantKey orders instants as time does,
// also at the edges of the years a dateTime can reach.
func TestInstantKeyOrder(t *testing.T) {
	texts := []string{
		"0000-01-01T00:00:00+23:59", "0000-01-01T00:00:00+01:00", "0000-01-01T00:00:00Z",
		"2011-05-13T04:42:33.999999999Z", "2011-05-13T06:42:34+02:00", "2011-05-13T04:42:34.000000001Z",
		"9999-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59-23:59",
	}
	for i := 1; i < len(texts); i++ {
		a, _ := schema.ParseDateTime(texts[i-1])
		b, _ := schema.ParseDateTime(texts[i])
		if ka, kb := instantKey(a), instantKey(b); strings.Compare(ka, kb) != a.Compare(b) {
			t.Errorf("instantKey(%s) = %s, instantKey(%s) = %s: wrong order", texts[i-1], ka, texts[i], kb)
		}
	}
}
