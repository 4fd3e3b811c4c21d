package sqlstore

import (
	"testing"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/schema"
)

// TestOneAtMost holds which filters select one resource at most: an
// equality of the name, alone or and-ed, and nothing else.
func TestOneAtMost(t *testing.T) {
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
		{users, `active eq true and userName eq "bjensen"`, true},
		{users, `(userName eq "bjensen" and active eq true) and title pr`, true},
		{groups, `displayName eq "Sales"`, true},
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
		if got := oneAtMost(f, c.rt); got != c.want {
			t.Errorf("%s on %s: %v, want %v", c.filter, c.rt.Name, got, c.want)
		}
	}
	if oneAtMost(nil, users) {
		t.Error("no filter: one at most")
	}
}
