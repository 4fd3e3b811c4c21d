package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlstore"
)

// FilterDialect is a SQL store's part in RunFilters and FuzzFilters: its
// dialect, whose Where and OrderBy they test, and what the store keeps
// differently from the other stores.
type FilterDialect struct {
	// Open returns the store's dialect over a new database that has the
	// store's tables and no rows, closed when the test ends (t.Cleanup).
	// The tests run their statements through it, and Load makes the rows
	// with the store's own insert, which writes nothing (see Load).
	Open func(t testing.TB) sqlstore.Dialect
	// Precision is the finest time the store keeps (see NewFilterFixture).
	Precision time.Duration
	// User is the store's own user of the fixture: one that another store
	// cannot hold.
	User FilterUser
	// UserFilters and GroupFilters are the store's own filters, for what
	// it does differently (literals it cannot hold, its precision, the
	// conditions it adds for its indexes), held to filter.Match as the
	// shared ones are.
	UserFilters, GroupFilters []string
	// UserLiterals are filters of users of the store's own with literals
	// that filter.Parse never makes but a filter built in Go can hold:
	// text that is not valid UTF-8. At least a third of them must select
	// something.
	UserLiterals []FilterLiteral
}

// FilterLiteral is a filter with a literal that filter.Parse cannot make.
type FilterLiteral struct {
	Filter  string // a comparison with the literal "X"
	Literal string // in place of X
}

// Load writes the fixture into d's database, which has the store's tables
// and no rows: directories d1 and d2, then the resources in order, with
// the columns the store's insert writes (sqlstore.Store.NewInsert), email
// keys and all, and the groups' member rows.
func (fx *FilterFixture) Load(t testing.TB, d sqlstore.Dialect) {
	t.Helper()
	exec := func(query string, args ...any) {
		t.Helper()
		if _, err := d.Writer().Exec(context.Background(), query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	for _, dir := range []string{"d1", "d2"} {
		exec(`INSERT INTO directories (id, name, name_key, created) VALUES ($1, $1, $1, $2)`,
			dir, d.Time(time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)))
	}
	st := sqlstore.New(d)
	for _, fr := range fx.Resources {
		r := fr.Resource
		_, ins, _, err := st.NewInsert(fr.Dir, r) // writes nothing: the columns only
		if err != nil {
			t.Fatalf("%s: %v", fr.ID, err)
		}
		row := ins.Args // directory_id, type, id, name, name_key, fold_key, external_id, email_keys, created, attrs
		exec(`INSERT INTO resources `+sqlstore.InsertColumns+` VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			fr.Dir, r.Type.Name, fr.ID, row[3], row[4], row[5], row[6], row[7], d.Time(fr.Created), d.Time(fr.Modified),
			fr.Version, row[9])
		if err := d.IndexEmails(context.Background(), d.Writer(), fr.Dir, fr.ID, row[sqlstore.ArgEmailKeys]); err != nil {
			t.Fatalf("%s: %v", fr.ID, err)
		}
		for _, m := range fr.Members {
			exec(`INSERT INTO members (directory_id, group_id, member_id, member_type) VALUES ($1, $2, $3, $4)`,
				fr.Dir, fr.ID, m[0], m[1])
		}
	}
}

// filterDB is a database holding the filter fixture, and the resources of
// directory d1 as filter.Match sees them.
type filterDB struct {
	d      sqlstore.Dialect
	users  *schema.ResourceType
	groups *schema.ResourceType
	data   FilterView
	order  map[string][]string // type name → ids of d1 in creation order
}

// open returns a new database of the store's holding the filter fixture.
func (fd FilterDialect) open(t testing.TB) *filterDB {
	t.Helper()
	fx := NewFilterFixture(t, fd.Precision, fd.User)
	db := &filterDB{d: fd.Open(t), users: fx.Users, groups: fx.Groups, data: fx.View(), order: map[string][]string{}}
	fx.Load(t, db.d)
	for _, fr := range fx.Resources {
		if fr.Dir == "d1" {
			db.order[fr.Resource.Type.Name] = append(db.order[fr.Resource.Type.Name], fr.ID)
		}
	}
	return db
}

// selectIDs returns the ids of the resources of type rt in d1 that cond
// selects, sorted; args are Where's, d1 and the type first.
func (db *filterDB) selectIDs(t testing.TB, cond string, args []any) []string {
	t.Helper()
	ids, err := db.queryStrings(`SELECT r.id FROM resources r WHERE r.directory_id = $1 AND r.type = $2 AND (`+cond+`) ORDER BY r.id`, args...)
	if err != nil {
		t.Fatalf("%s: %v", cond, err)
	}
	return ids
}

// queryStrings returns the first column of the rows of a query.
func (db *filterDB) queryStrings(query string, args ...any) ([]string, error) {
	rows, err := db.d.Reader().Query(context.Background(), query, args...)
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

// RunFilters holds a SQL store's translation of filters and sorts into SQL
// (its dialect's Where and OrderBy) to filter.Match and resource.Compare,
// on the filter fixture in a database of the store's own.
//
//	func TestFilters(t *testing.T) { storetest.RunFilters(t, filterDialect) }
func RunFilters(t *testing.T, fd FilterDialect) {
	db := fd.open(t)
	t.Run("WhereMatchesFilterMatch", func(t *testing.T) { db.testWhere(t, fd) })
	t.Run("WhereRejectsUnsupported", db.testRejects)
	t.Run("OrderByMatchesCompare", db.testOrderBy)
}

// testWhere checks that Where selects exactly the resources filter.Match
// selects, for every filter of a large table, on a real database. For
// members and groups, Match is given the members and groups the store
// computes on read (computed in Go by the fixture).
func (db *filterDB) testWhere(t *testing.T, fd FilterDialect) {
	cases := []struct {
		rt      *schema.ResourceType
		filters []string
		own     bool // the store's own filters
	}{
		{db.users, RFCUserFilters, false},
		{db.users, UserFilters, false},
		{db.users, fd.UserFilters, true},
		{db.groups, GroupFilters, false},
		{db.groups, fd.GroupFilters, true},
	}
	var all, shared tally // shared: without the store's own filters
	n := 0                // filters in the tables
	for _, c := range cases {
		n += len(c.filters)
		for _, src := range c.filters {
			t.Run(c.rt.Name+"/"+src, func(t *testing.T) {
				f, err := filter.Parse(src, c.rt)
				if err != nil {
					t.Fatal(err)
				}
				base := []any{"d1", c.rt.Name}
				cond, args, err := db.d.Where(f, c.rt, base)
				if err != nil {
					t.Fatal(err)
				}
				checkPlaceholders(t, cond, len(base), args)
				got := db.selectIDs(t, cond, args)
				want := db.data.Match(c.rt, f)
				if !slices.Equal(got, want) {
					t.Errorf("SQL selects %v\nMatch selects %v\nSQL: %s\nargs: %q", got, want, cond, args)
				}
				selective := len(want) > 0 && len(want) < len(db.data[c.rt.Name])
				all.add(selective)
				if !c.own {
					shared.add(selective)
				}
			})
		}
	}
	// The store's filters with literals that filter.Parse cannot make.
	selecting := 0
	for _, c := range fd.UserLiterals {
		t.Run("User/"+strings.Replace(c.Filter, "X", fmt.Sprintf("%+q", c.Literal), 1), func(t *testing.T) {
			f, err := filter.Parse(c.Filter, db.users)
			if err != nil {
				t.Fatal(err)
			}
			cmp := f.(*filter.Compare)
			cmp.Value = c.Literal
			cond, args, err := db.d.Where(f, db.users, []any{"d1", "User"})
			if err != nil {
				t.Fatal(err)
			}
			got, want := db.selectIDs(t, cond, args), db.data.Match(db.users, f)
			if !slices.Equal(got, want) {
				t.Errorf("SQL selects %v\nMatch selects %v\nSQL: %s\nargs: %q", got, want, cond, args)
			}
			if len(want) > 0 {
				selecting++
			}
		})
	}
	if selecting*3 < len(fd.UserLiterals) {
		t.Errorf("only %d filters with invalid UTF-8 select something", selecting)
	}

	// A table of filters that select all or nothing would prove little:
	// 8 in 10 of the shared filters must select some resources but not
	// all, and 7 in 10 with the store's own, which probe its edges and
	// often select nothing. (Only when every filter ran.)
	if all.total == n {
		if shared.selective*10 < shared.total*8 {
			t.Errorf("only %d of %d shared filters select some resources but not all", shared.selective, shared.total)
		}
		if all.selective*10 < all.total*7 {
			t.Errorf("only %d of %d filters select some resources but not all", all.selective, all.total)
		}
	}
	t.Logf("%d filters, %d of them selective", all.total, all.selective)
}

// tally counts filters, and those that select some resources but not
// all.
type tally struct{ total, selective int }

func (n *tally) add(selective bool) {
	n.total++
	if selective {
		n.selective++
	}
}

var placeholder = regexp.MustCompile(`\$([0-9]+)`)

// checkPlaceholders checks that cond numbers its placeholders after the
// n arguments the caller had, uses each of its own once, and that args
// kept the caller's.
func checkPlaceholders(t *testing.T, cond string, n int, args []any) {
	t.Helper()
	found := placeholder.FindAllStringSubmatch(cond, -1)
	if len(found) != len(args)-n {
		t.Fatalf("%d placeholders, %d arguments in %s", len(found), len(args)-n, cond)
	}
	used := map[int]bool{}
	for _, m := range found {
		i, _ := strconv.Atoi(m[1])
		used[i] = true
	}
	for i := 1; i <= max(len(args), len(used)); i++ {
		if want := i > n && i <= len(args); used[i] != want {
			t.Fatalf("placeholder $%d used: %v, want %v (%d arguments before, %d after) in %s", i, used[i], want, n, len(args), cond)
		}
	}
	if args[0] != "d1" {
		t.Fatalf("where changed the caller's arguments: %q", args)
	}
}

// testRejects checks that what the store cannot answer is a 400
// invalidFilter error, and a sort by a secret attribute a 400
// invalidValue.
func (db *filterDB) testRejects(t *testing.T) {
	cases := []struct {
		rt      *schema.ResourceType
		filters []string
	}{
		{db.users, UnsupportedUserFilters},
		{db.groups, UnsupportedGroupFilters},
	}
	for _, c := range cases {
		for _, src := range c.filters {
			t.Run(src, func(t *testing.T) {
				f, err := filter.Parse(src, c.rt)
				if err != nil {
					t.Fatal(err)
				}
				_, _, err = db.d.Where(f, c.rt, []any{"d1", c.rt.Name})
				if !errors.Is(err, &scim.Error{Status: 400, ScimType: scim.InvalidFilter}) {
					t.Errorf("error = %v, want 400 invalidFilter", err)
				}
			})
		}
	}
	// A sort by what a client must never learn would tell who has it.
	for _, path := range []string{"password", schema.UserURN + ":password"} {
		t.Run("sortBy "+path, func(t *testing.T) {
			ref, err := db.users.Resolve(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.d.OrderBy(store.Query{Type: db.users, SortBy: ref})
			if !errors.Is(err, &scim.Error{Status: 400, ScimType: scim.InvalidValue}) {
				t.Errorf("error = %v, want 400 invalidValue", err)
			}
		})
	}
	t.Run("an unresolved filter", func(t *testing.T) {
		f, err := filter.Parse(`userName eq "bjensen"`, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = db.d.Where(f, db.users, nil)
		if !errors.Is(err, &scim.Error{Status: 400, ScimType: scim.InvalidFilter}) {
			t.Errorf("error = %v, want 400 invalidFilter", err)
		}
	})
}

// testOrderBy checks that OrderBy sorts the fixture as resource.Compare
// does, creation order breaking ties, and descending order is the exact
// reverse.
func (db *filterDB) testOrderBy(t *testing.T) {
	cases := []struct {
		rt    *schema.ResourceType
		paths []string
	}{
		{db.users, []string{"userName", "displayName", "title", "nickName", "name.givenName", "name", "emails", "emails.type",
			"emails.primary", "phoneNumbers.value", "addresses.postalCode", "ims", "x509Certificates", "profileUrl", "active",
			"externalId", "id", "meta.created", "meta.lastModified", "meta.version", "meta.resourceType", "meta.location",
			"level", "score", "vip", "hired", "tags", "code", "badges", "shifts", "homepage", "site.floor", "site.building",
			"manager", "manager.value", "department", "groups", "groups.display", "groups.type", "roles.value"}},
		{db.groups, []string{"displayName", "externalId", "members", "members.type", "meta.lastModified", "id"}},
	}
	for _, c := range cases {
		for _, path := range c.paths {
			t.Run(c.rt.Name+"/"+path, func(t *testing.T) {
				ref, err := c.rt.Resolve(path)
				if err != nil {
					t.Fatal(err)
				}
				want := slices.Clone(db.order[c.rt.Name])
				sort.SliceStable(want, func(i, j int) bool {
					a := &resource.Resource{Type: c.rt, Attrs: db.data[c.rt.Name][want[i]]}
					b := &resource.Resource{Type: c.rt, Attrs: db.data[c.rt.Name][want[j]]}
					return resource.Compare(a, b, ref) < 0
				})
				for _, desc := range []bool{false, true} {
					q := store.Query{Type: c.rt, SortBy: ref, Descending: desc}
					orderBy, err := db.d.OrderBy(q)
					if err != nil {
						t.Fatal(err)
					}
					got, err := db.queryStrings(`SELECT r.id FROM resources r WHERE r.directory_id = 'd1' AND r.type = $1 ORDER BY `+orderBy, c.rt.Name)
					if err != nil {
						t.Fatalf("ORDER BY %s: %v", orderBy, err)
					}
					if desc {
						slices.Reverse(got)
					}
					if !slices.Equal(got, want) {
						t.Errorf("descending %v: ORDER BY %s\nsorts %v\nwant  %v", desc, orderBy, got, want)
					}
				}
			})
		}
	}
}

// FuzzFilters is RunFilters's WhereMatchesFilterMatch for any filter: one
// that parses either becomes SQL that the database runs without error and
// that selects exactly what filter.Match selects, or is a 400
// invalidFilter. Its seeds (every filter of the tables, the store's own
// among them) run in go test.
//
//	func FuzzWhereMatchesFilterMatch(f *testing.F) { storetest.FuzzFilters(f, filterDialect) }
func FuzzFilters(f *testing.F, fd FilterDialect) {
	db := fd.open(f)
	for _, list := range [][]string{RFCUserFilters, UserFilters, fd.UserFilters} {
		for _, src := range list {
			f.Add(src, false)
		}
	}
	for _, list := range [][]string{GroupFilters, fd.GroupFilters} {
		for _, src := range list {
			f.Add(src, true)
		}
	}
	f.Fuzz(func(t *testing.T, src string, groups bool) {
		rt := db.users
		if groups {
			rt = db.groups
		}
		expr, err := filter.Parse(src, rt)
		if err != nil {
			return
		}
		cond, args, err := db.d.Where(expr, rt, []any{"d1", rt.Name})
		if err != nil {
			var se *scim.Error
			if !errors.As(err, &se) || se.Status != http.StatusBadRequest || se.ScimType != scim.InvalidFilter {
				t.Fatalf("%s: %v, want a 400 invalidFilter", src, err)
			}
			return
		}
		got := db.selectIDs(t, cond, args)
		if want := db.data.Match(rt, expr); !slices.Equal(got, want) {
			t.Fatalf("%s:\nSQL selects %v\nMatch selects %v\nSQL: %s\nargs: %q", src, got, want, cond, args)
		}
	})
}
