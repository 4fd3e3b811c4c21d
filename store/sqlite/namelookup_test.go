package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/store/sqlstore"
)

// TestNameLookup holds which filters List reads without materializing
// their page: an equality of the name, which the fold_key index answers,
// alone, and nothing else.
func TestNameLookup(t *testing.T) {
	reg := schema.NewRegistry()
	users, groups := reg.ResourceType("User"), reg.ResourceType("Group")
	for _, c := range []struct {
		rt     *schema.ResourceType
		filter string
		want   bool
	}{
		{users, `userName eq "bjensen"`, true},
		{users, `USERNAME eq "bjensen"`, true},
		{users, `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen"`, true},
		{groups, `displayName eq "Sales"`, true},
		// Any number of spellings: s and ſ fold together but lower-case
		// apart, which once made NameEq look up 2ⁿ keys, and scan past 32.
		{users, `userName eq "ssssss"`, true},
		// "" is left to attrs: a scan.
		{users, `userName eq ""`, false},
		// And-ed, the plan is SQLite's to choose.
		{users, `active eq true and userName eq "bjensen"`, false},
		{users, `userName eq "bjensen" or userName eq "jsmith"`, false},
		{users, `not (userName eq "bjensen")`, false},
		{users, `userName ne "bjensen"`, false},
		{users, `userName sw "bjensen"`, false},
		{users, `userName eq null`, false},
		{users, `displayName eq "Babs"`, false},
		{users, `externalId eq "1"`, false},
		{users, `name.givenName eq "Barbara"`, false},
		{users, `emails[value eq "b@example.com"]`, false},
		{users, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"`, false},
		{groups, `members[value eq "1"]`, false},
	} {
		f, err := filter.Parse(c.filter, c.rt)
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		if got := nameLookup(f, c.rt); got != c.want {
			t.Errorf("%s on %s: %v, want %v", c.filter, c.rt.Name, got, c.want)
		}
	}
	if nameLookup(nil, users) {
		t.Error("no filter is a lookup by name")
	}
}

// TestNameLookupPagesSearchTheFoldKey: every page List reads
// unmaterialized for a name eq (nameLookup) searches resources_fold_key
// and scans nothing, whatever the spelling, the sort, the cursor and the
// statistics: a page read so that walked the directory could not be
// stopped when its request ends.
func TestNameLookupPagesSearchTheFoldKey(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg := schema.NewRegistry()
	users := reg.ResourceType("User")
	dir, err := st.CreateDirectory(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		u := resource.New(users)
		u.Attrs["userName"] = fmt.Sprintf("sessions.assistants%d@example.com", i)
		u.Attrs["emails"] = []any{map[string]any{"value": fmt.Sprintf("u%d@example.com", i)}}
		if _, err := st.Create(ctx, dir.ID, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, analyze := range []bool{false, true} {
		if analyze {
			if _, err := st.d.db.Exec(`ANALYZE`); err != nil {
				t.Fatal(err)
			}
		}
		for _, lit := range []string{"SESSIONS.ASSISTANTS7@EXAMPLE.COM", "ſessions.aſſistants7@example.com", "a\xffb", strings.Repeat("Ss", 1<<15)} {
			for _, sort := range []string{"", "userName", "emails", "meta.lastModified", "cursor"} {
				f, err := filter.Parse(`userName eq "x"`, users)
				if err != nil {
					t.Fatal(err)
				}
				f.(*filter.Compare).Value = lit
				q := store.Query{Type: users, Filter: f, Count: 10}
				if sort != "" && sort != "cursor" {
					p, err := filter.ParsePath(sort, users)
					if err != nil {
						t.Fatal(err)
					}
					q.SortBy = p.Attr.Ref
				}
				if !nameLookup(f, users) {
					t.Fatalf("%q: not a name lookup", lit)
				}
				w, args, err := where(f, users, []any{dir.ID, "User"})
				if err != nil {
					t.Fatal(err)
				}
				cond := "r.directory_id = $1 AND r.type = $2 AND (" + w + ")"
				order := "r.seq"
				if sort == "cursor" {
					args = append(args, int64(5))
					cond += fmt.Sprintf(" AND r.seq > $%d", len(args))
				} else if order, err = orderBy(q); err != nil {
					t.Fatal(err)
				}
				query := sqlstore.PageQuery(cond, order, len(args))
				plan := queryPlan(t, st.d.db, query, append(args, 11, 0)...)
				if !strings.Contains(plan, "SEARCH r USING INDEX resources_fold_key") || strings.Contains(plan, "SCAN r") {
					t.Errorf("analyze %v, sort %q, %.40q:\n%s", analyze, sort, lit, plan)
				}
			}
		}
	}
}
