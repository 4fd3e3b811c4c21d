package sqlite

import (
	"testing"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
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
