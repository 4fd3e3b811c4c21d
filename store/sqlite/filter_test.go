package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlstore"
	"github.com/rosterhq/roster/store/storetest"
)

// nulUser is the fixture's user that SQLite holds and PostgreSQL cannot:
// one with a NUL in its userName.
var nulUser = storetest.FilterUser{ID: "u-nul", Modified: "2024-03-06T00:00:00Z", Version: 1,
	Body: `{"userName": "nul\u0000byte", "title": "nul\u0000"}`}

// filterFixture is a database holding storetest's filter fixture, and the
// resources of directory d1 as filter.Match sees them.
type filterFixture struct {
	db     *sql.DB
	users  *schema.ResourceType
	groups *schema.ResourceType
	data   storetest.FilterView
	order  map[string][]string // type name → ids of d1 in creation order
}

func newFilterFixture(t *testing.T) *filterFixture {
	t.Helper()
	sf := storetest.NewFilterFixture(t, time.Nanosecond, nulUser)
	fx := &filterFixture{db: openFilterDB(t), users: sf.Users, groups: sf.Groups, data: sf.View(), order: map[string][]string{}}
	for _, dir := range []string{"d1", "d2"} {
		fx.exec(t, `INSERT INTO directories (id, name, name_key, created) VALUES (?, ?, ?, ?)`,
			dir, dir, dir, "2010-01-01T00:00:00.000000000Z")
	}
	// The rows as the store writes them, email keys and all.
	for _, fr := range sf.Resources {
		r := fr.Resource
		_, ins, _, err := sqlstore.New(&dialect{}).NewInsert(fr.Dir, r) // no database: the columns only
		if err != nil {
			t.Fatalf("%s: %v", fr.ID, err)
		}
		row := ins.Args // directory_id, type, id, name, name_key, fold_key, external_id, email_keys, created, attrs
		fx.exec(t, `INSERT INTO resources
			(directory_id, type, id, name, name_key, fold_key, external_id, email_keys, created, last_modified, version, attrs)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			fr.Dir, r.Type.Name, fr.ID, row[3], row[4], row[5], row[6], row[7], fr.Created.Format(timeFormat), fr.Modified.Format(timeFormat),
			fr.Version, row[9])
		for _, m := range fr.Members {
			fx.exec(t, `INSERT INTO members (directory_id, group_id, member_id, member_type) VALUES (?, ?, ?, ?)`,
				fr.Dir, fr.ID, m[0], m[1])
		}
		if fr.Dir == "d1" {
			fx.order[r.Type.Name] = append(fx.order[r.Type.Name], fr.ID)
		}
	}
	return fx
}

// openFilterDB opens a new database file with the tables of the first
// migration.
func openFilterDB(t *testing.T) *sql.DB {
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
	return db
}

func (fx *filterFixture) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if _, err := fx.db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// selectIDs returns the ids of the resources of type rt in d1 that cond
// selects, sorted; args are where's, d1 and the type first.
func (fx *filterFixture) selectIDs(t *testing.T, rt *schema.ResourceType, cond string, args []any) []string {
	t.Helper()
	ids, err := queryStrings(fx.db, `SELECT r.id FROM resources r WHERE r.directory_id = $1 AND r.type = $2 AND (`+cond+`) ORDER BY r.id`, args...)
	if err != nil {
		t.Fatalf("%s: %v", cond, err)
	}
	return ids
}

// queryStrings returns the first column of the rows of a query.
func queryStrings(db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := db.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// TestWhereMatchesFilterMatch checks that where selects exactly the
// resources filter.Match selects, for every filter of a large table, on a
// real database. For members and groups, Match is given the members and
// groups the store computes on read (computed in Go by the fixture).
func TestWhereMatchesFilterMatch(t *testing.T) {
	fx := newFilterFixture(t)
	cases := []struct {
		rt      *schema.ResourceType
		filters []string
	}{
		{fx.users, storetest.RFCUserFilters},
		{fx.users, storetest.UserFilters},
		{fx.groups, storetest.GroupFilters},
	}
	total, selective := 0, 0
	for _, c := range cases {
		for _, src := range c.filters {
			t.Run(c.rt.Name+"/"+src, func(t *testing.T) {
				f, err := filter.Parse(src, c.rt)
				if err != nil {
					t.Fatal(err)
				}
				base := []any{"d1", c.rt.Name}
				cond, args, err := where(f, c.rt, base)
				if err != nil {
					t.Fatal(err)
				}
				if n := len(placeholder.FindAllString(cond, -1)); n != len(args)-len(base) {
					t.Fatalf("%d placeholders, %d arguments in %s", n, len(args)-len(base), cond)
				}
				got := fx.selectIDs(t, c.rt, cond, args)
				want := fx.data.Match(c.rt, f)
				if !slices.Equal(got, want) {
					t.Errorf("SQL selects %v\nMatch selects %v\nSQL: %s\nargs: %q", got, want, cond, args)
				}
				total++
				if len(want) > 0 && len(want) < len(fx.data[c.rt.Name]) {
					selective++
				}
			})
		}
	}
	// A table of filters that select all or nothing would prove little.
	if total == len(storetest.RFCUserFilters)+len(storetest.UserFilters)+len(storetest.GroupFilters) && selective*10 < total*8 {
		t.Errorf("only %d of %d filters select some resources but not all", selective, total)
	}
	t.Logf("%d filters, %d of them selective", total, selective)
}

var placeholder = regexp.MustCompile(`\$[0-9]+`)

// TestWhereRejectsUnsupported checks that what the store cannot answer is
// a 400 invalidFilter error.
func TestWhereRejectsUnsupported(t *testing.T) {
	fx := newFilterFixture(t)
	cases := []struct {
		rt      *schema.ResourceType
		filters []string
	}{
		{fx.users, storetest.UnsupportedUserFilters},
		{fx.groups, storetest.UnsupportedGroupFilters},
	}
	for _, c := range cases {
		for _, src := range c.filters {
			t.Run(src, func(t *testing.T) {
				f, err := filter.Parse(src, c.rt)
				if err != nil {
					t.Fatal(err)
				}
				_, _, err = where(f, c.rt, []any{"d1", c.rt.Name})
				if !errors.Is(err, &scim.Error{Status: 400, ScimType: scim.InvalidFilter}) {
					t.Errorf("error = %v, want 400 invalidFilter", err)
				}
			})
		}
	}
	t.Run("an unresolved filter", func(t *testing.T) {
		f, err := filter.Parse(`userName eq "bjensen"`, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = where(f, fx.users, nil)
		if !errors.Is(err, &scim.Error{Status: 400, ScimType: scim.InvalidFilter}) {
			t.Errorf("error = %v, want 400 invalidFilter", err)
		}
	})
}

// TestWhereUsesIndexes checks with EXPLAIN QUERY PLAN that the lookups
// clients make most are answered through an index, not by a scan.
func TestWhereUsesIndexes(t *testing.T) {
	fx := newFilterFixture(t)
	tests := []struct {
		filter string
		index  string
	}{
		{`userName eq "bjensen"`, "USING INDEX resources_name"},
		{`userName eq "Jessica@example.com"`, "USING INDEX resources_name"},
		{`userName sw "bj"`, "USING INDEX resources_name"},
		{`externalId eq "bjensen"`, "USING INDEX resources_external_id"},
		{`id eq "u-bjensen"`, "USING INDEX sqlite_autoindex_resources_1"},
		{`meta.lastModified gt "2020-01-01T00:00:00Z"`, "USING INDEX resources_last_modified"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			f, err := filter.Parse(tt.filter, fx.users)
			if err != nil {
				t.Fatal(err)
			}
			cond, args, err := where(f, fx.users, []any{"d1", "User"})
			if err != nil {
				t.Fatal(err)
			}
			text := queryPlan(t, fx.db, `SELECT r.id FROM resources r WHERE r.directory_id = $1 AND r.type = $2 AND (`+cond+`)`, args...)
			if !strings.Contains(text, "SEARCH r "+tt.index) || strings.Contains(text, "SCAN r") {
				t.Errorf("plan for %s:\n%s\nwant SEARCH r %s", cond, text, tt.index)
			}
		})
	}
}

// TestOrderByMatchesCompare checks that orderBy sorts the fixture as
// resource.Compare does, creation order breaking ties, and descending
// order is the exact reverse.
func TestOrderByMatchesCompare(t *testing.T) {
	fx := newFilterFixture(t)
	cases := []struct {
		rt    *schema.ResourceType
		paths []string
	}{
		{fx.users, []string{"userName", "displayName", "title", "nickName", "name.givenName", "name", "emails", "emails.type",
			"emails.primary", "phoneNumbers.value", "addresses.postalCode", "ims", "x509Certificates", "profileUrl", "active",
			"externalId", "id", "meta.created", "meta.lastModified", "meta.version", "meta.resourceType", "meta.location",
			"level", "score", "vip", "hired", "tags", "code", "badges", "shifts", "homepage", "site.floor", "site.building",
			"manager", "manager.value", "department", "groups", "groups.display", "groups.type", "roles.value"}},
		{fx.groups, []string{"displayName", "externalId", "members", "members.type", "meta.lastModified", "id"}},
	}
	for _, c := range cases {
		for _, path := range c.paths {
			t.Run(c.rt.Name+"/"+path, func(t *testing.T) {
				ref, err := c.rt.Resolve(path)
				if err != nil {
					t.Fatal(err)
				}
				want := slices.Clone(fx.order[c.rt.Name])
				sort.SliceStable(want, func(i, j int) bool {
					a := &resource.Resource{Type: c.rt, Attrs: fx.data[c.rt.Name][want[i]]}
					b := &resource.Resource{Type: c.rt, Attrs: fx.data[c.rt.Name][want[j]]}
					return resource.Compare(a, b, ref) < 0
				})
				for _, desc := range []bool{false, true} {
					q := store.Query{Type: c.rt, SortBy: ref, Descending: desc}
					got, err := queryStrings(fx.db, `SELECT r.id FROM resources r WHERE r.directory_id = 'd1' AND r.type = $1 ORDER BY `+orderBy(q), c.rt.Name)
					if err != nil {
						t.Fatalf("ORDER BY %s: %v", orderBy(q), err)
					}
					if desc {
						slices.Reverse(got)
					}
					if !slices.Equal(got, want) {
						t.Errorf("descending %v: ORDER BY %s\nsorts %v\nwant  %v", desc, orderBy(q), got, want)
					}
				}
			})
		}
	}
}

// TestLowerVariants checks that lowerVariants finds the lower case of
// every spelling that EqualFold equates.
func TestLowerVariants(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"BJensen", []string{"bjensen", "bjenſen"}},
		{"İlkay", []string{"ilkay"}},
		{"ΣΑ", []string{"σα", "ςα"}},
		{"K", []string{"k"}},
		{"", []string{""}},
		{"A\xffſ\xc3", []string{"a\ufffds\ufffd", "a\ufffdſ\ufffd"}}, // invalid bytes as in strings.ToLower
		{strings.Repeat("AB", 50_000) + "S", []string{strings.Repeat("ab", 50_000) + "s", strings.Repeat("ab", 50_000) + "ſ"}},
	}
	for _, tt := range tests {
		got, ok := lowerVariants(tt.in, 16)
		slices.Sort(got)
		slices.Sort(tt.want)
		if !ok || !slices.Equal(got, tt.want) {
			t.Errorf("lowerVariants(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	if _, ok := lowerVariants("sssss", 16); ok {
		t.Error(`lowerVariants("sssss", 16) has 32 variants, want ok false`)
	}
}

// BenchmarkLowerVariants measures the lower cases of a userName eq value of
// a megabyte (issue 11: building each variant anew at every rune took
// minutes), with one variant and with the most that NameEq looks up.
func BenchmarkLowerVariants(b *testing.B) {
	for _, bm := range []struct{ name, s string }{
		{"1 MB, one variant", strings.Repeat("A", 1<<20)},
		{"1 MB, 32 variants", "SSSSS" + strings.Repeat("A", 1<<20-5)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(bm.s)))
			for b.Loop() {
				if _, ok := lowerVariants(bm.s, maxNameVariants); !ok {
					b.Fatal("too many variants")
				}
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
