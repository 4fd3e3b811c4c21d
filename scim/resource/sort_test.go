package resource_test

import (
	"slices"
	"sort"
	"testing"

	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

// sorted decodes bodies (each given an id, in order, from ids), sorts them
// stably by sortBy and returns their ids in the resulting order.
func sorted(t *testing.T, rt *schema.ResourceType, sortBy string, descending bool, ids []string, bodies []string, edit func(id string, r *resource.Resource)) []string {
	t.Helper()
	ref := resolve(t, rt, sortBy)
	rs := make([]*resource.Resource, len(bodies))
	for i, b := range bodies {
		rs[i] = mustDecode(t, rt, b)
		rs[i].SetID(ids[i])
		if edit != nil {
			edit(ids[i], rs[i])
		}
	}
	sort.SliceStable(rs, func(i, j int) bool {
		c := resource.Compare(rs[i], rs[j], ref)
		if descending {
			c = -c
		}
		return c < 0
	})
	got := make([]string, len(rs))
	for i, r := range rs {
		got[i] = r.ID()
	}
	return got
}

func TestCompareSorts(t *testing.T) {
	lastModified := func(ts map[string]string) func(string, *resource.Resource) {
		return func(id string, r *resource.Resource) {
			if v, ok := ts[id]; ok {
				r.Attrs["meta"] = map[string]any{"resourceType": "User", "lastModified": v}
			}
		}
	}
	tests := []struct {
		name       string
		sortBy     string
		descending bool
		ids        []string
		bodies     []string
		edit       func(string, *resource.Resource)
		want       []string
	}{
		{name: "userName is compared case-insensitively", sortBy: "userName",
			ids:    []string{"bob", "Carol", "alice", "Dave"},
			bodies: []string{`{"userName": "bob"}`, `{"userName": "Carol"}`, `{"userName": "alice"}`, `{"userName": "Dave"}`},
			want:   []string{"alice", "bob", "Carol", "Dave"}},
		{name: "userName in any case as sortBy", sortBy: "USERNAME",
			ids:    []string{"b", "A"},
			bodies: []string{`{"userName": "b"}`, `{"userName": "A"}`},
			want:   []string{"A", "b"}},
		{name: "userName descending", sortBy: "userName", descending: true,
			ids:    []string{"bob", "Carol", "alice"},
			bodies: []string{`{"userName": "bob"}`, `{"userName": "Carol"}`, `{"userName": "alice"}`},
			want:   []string{"Carol", "bob", "alice"}},
		{name: "externalId is caseExact, so upper case sorts first", sortBy: "externalId",
			ids:    []string{"b", "B", "a", "A", "none"},
			bodies: []string{`{"userName": "1", "externalId": "b"}`, `{"userName": "2", "externalId": "B"}`, `{"userName": "3", "externalId": "a"}`, `{"userName": "4", "externalId": "A"}`, `{"userName": "5"}`},
			want:   []string{"A", "B", "a", "b", "none"}},
		{name: "emails sort by the primary value, else the first", sortBy: "emails",
			ids: []string{"first-c", "primary-a", "none", "primary-b", "first-D"},
			bodies: []string{
				`{"userName": "1", "emails": [{"value": "c@x.com"}, {"value": "a0@x.com"}]}`,
				`{"userName": "2", "emails": [{"value": "z@x.com"}, {"value": "a@x.com", "primary": true}]}`,
				`{"userName": "3"}`,
				`{"userName": "4", "emails": [{"value": "0@x.com", "primary": false}, {"value": "b@x.com", "primary": true}]}`,
				`{"userName": "5", "emails": [{"value": "D@x.com", "type": "work"}]}`,
			},
			want: []string{"primary-a", "primary-b", "first-c", "first-D", "none"}},
		{name: "emails.value sorts the same way", sortBy: "emails.value",
			ids:    []string{"first-c", "primary-a"},
			bodies: []string{`{"userName": "1", "emails": [{"value": "c@x.com"}, {"value": "a0@x.com"}]}`, `{"userName": "2", "emails": [{"value": "z@x.com"}, {"value": "a@x.com", "primary": true}]}`},
			want:   []string{"primary-a", "first-c"}},
		{name: "emails.type sorts by the primary element's type", sortBy: "emails.type",
			ids:    []string{"work", "home", "untyped"},
			bodies: []string{`{"userName": "1", "emails": [{"value": "a", "type": "home"}, {"value": "b", "type": "work", "primary": true}]}`, `{"userName": "2", "emails": [{"value": "a", "type": "home"}]}`, `{"userName": "3", "emails": [{"value": "a"}, {"value": "b", "type": "aaa"}]}`},
			want:   []string{"home", "work", "untyped"}},
		{name: "meta.lastModified compares instants across time zones", sortBy: "meta.lastModified",
			ids:    []string{"09:00Z", "none", "08:00Z", "08:30Z", "08:00:00.5Z"},
			bodies: []string{`{"userName": "1"}`, `{"userName": "2"}`, `{"userName": "3"}`, `{"userName": "4"}`, `{"userName": "5"}`},
			edit: lastModified(map[string]string{
				"09:00Z":      "2024-01-01T09:00:00Z",
				"08:00Z":      "2024-01-01T10:00:00+02:00",
				"08:30Z":      "2024-01-01T07:30:00-01:00",
				"08:00:00.5Z": "2024-01-01T08:00:00.5Z",
			}),
			want: []string{"08:00Z", "08:00:00.5Z", "08:30Z", "09:00Z", "none"}},
		{name: "meta.lastModified descending puts the missing value first", sortBy: "meta.lastModified", descending: true,
			ids:    []string{"old", "none", "new"},
			bodies: []string{`{"userName": "1"}`, `{"userName": "2"}`, `{"userName": "3"}`},
			edit:   lastModified(map[string]string{"old": "2020-01-01T00:00:00Z", "new": "2024-01-01T00:00:00+14:00"}),
			want:   []string{"none", "new", "old"}},
		{name: "an integer attribute sorts by value, not as text", sortBy: "level",
			ids:    []string{"10", "9", "none", "-1", "100"},
			bodies: []string{`{"userName": "1", "level": 10}`, `{"userName": "2", "level": "9"}`, `{"userName": "3"}`, `{"userName": "4", "level": -1}`, `{"userName": "5", "level": 100}`},
			want:   []string{"-1", "9", "10", "100", "none"}},
		{name: "integers beyond float64 precision sort exactly", sortBy: "urn:ietf:params:scim:schemas:extension:roster:2.0:User:level",
			ids:    []string{"2^53+1", "2^53", "max", "max-1"},
			bodies: []string{`{"userName": "1", "level": 9007199254740993}`, `{"userName": "2", "level": 9007199254740992}`, `{"userName": "3", "level": 9223372036854775807}`, `{"userName": "4", "level": 9223372036854775806}`},
			want:   []string{"2^53", "2^53+1", "max-1", "max"}},
		{name: "a decimal attribute sorts by value", sortBy: "score",
			ids:    []string{"2.5", "-0.5", "10"},
			bodies: []string{`{"userName": "1", "score": 2.5}`, `{"userName": "2", "score": -0.5}`, `{"userName": "3", "score": 10}`},
			want:   []string{"-0.5", "2.5", "10"}},
		{name: "false sorts before true", sortBy: "active",
			ids:    []string{"true", "none", "false"},
			bodies: []string{`{"userName": "1", "active": true}`, `{"userName": "2"}`, `{"userName": "3", "active": false}`},
			want:   []string{"false", "true", "none"}},
		{name: "an extension attribute sorts", sortBy: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
			ids:    []string{"tours", "none", "admin"},
			bodies: []string{`{"userName": "1", "department": "Tours"}`, `{"userName": "2"}`, `{"userName": "3", "department": "admin"}`},
			want:   []string{"admin", "tours", "none"}},
		{name: "the manager sorts by its value", sortBy: "manager",
			ids:    []string{"m-2", "m-1"},
			bodies: []string{`{"userName": "1", "manager": "m-2"}`, `{"userName": "2", "manager": {"value": "m-1"}}`},
			want:   []string{"m-1", "m-2"}},
		{name: "a complex attribute without a value sub-attribute leaves the order", sortBy: "name",
			ids:    []string{"b", "a"},
			bodies: []string{`{"userName": "1", "name": {"givenName": "b"}}`, `{"userName": "2", "name": {"givenName": "a"}}`},
			want:   []string{"b", "a"}},
		{name: "equal values keep their order", sortBy: "displayName",
			ids:    []string{"first", "second", "third"},
			bodies: []string{`{"userName": "1", "displayName": "same"}`, `{"userName": "2", "displayName": "SAME"}`, `{"userName": "3", "displayName": "same"}`},
			want:   []string{"second", "first", "third"}},
	}
	rt := userType(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sorted(t, rt, tt.sortBy, tt.descending, tt.ids, tt.bodies, tt.edit); !slices.Equal(got, tt.want) {
				t.Errorf("sorted by %s: %q, want %q", tt.sortBy, got, tt.want)
			}
		})
	}
}

func TestCompareWithoutValues(t *testing.T) {
	rt := userType(t)
	a, b := mustDecode(t, rt, `{"userName": "a"}`), mustDecode(t, rt, `{"userName": "b"}`)
	if c := resource.Compare(a, b, resolve(t, rt, "displayName")); c != 0 {
		t.Errorf("two missing values compare %d, want 0", c)
	}
	if c := resource.Compare(a, b, schema.Ref{}); c != 0 {
		t.Errorf("an empty Ref compares %d, want 0", c)
	}
	if v, ok := resource.SortValue(a, schema.Ref{}); ok || v != nil {
		t.Errorf("SortValue(empty Ref) = %v, %v", v, ok)
	}
	a.Attrs["emails"] = []any{}
	if v, ok := resource.SortValue(a, resolve(t, rt, "emails")); ok {
		t.Errorf("SortValue of an empty list = %v, %v", v, ok)
	}
}

func TestCompareValues(t *testing.T) {
	rt := userType(t)
	tests := []struct {
		name string
		attr *schema.Attribute
		a, b any
		want int
	}{
		{"strings ignore case", resolve(t, rt, "userName").Attr, "ALICE", "bob", -1},
		{"equal strings in different case order by case", resolve(t, rt, "userName").Attr, "alice", "Alice", 1},
		{"caseExact strings compare bytes", resolve(t, rt, "externalId").Attr, "ALICE", "bob", -1},
		{"caseExact strings compare bytes, lower after upper", resolve(t, rt, "externalId").Attr, "a", "B", 1},
		{"a nil attribute compares strings ignoring case", nil, "B", "a", 1},
		{"dateTimes compare as instants", resolve(t, rt, "meta.created").Sub, "2024-01-01T10:00:00+02:00", "2024-01-01T09:00:00Z", -1},
		{"equal instants in different zones are equal", resolve(t, rt, "meta.created").Sub, "2024-01-01T10:00:00+02:00", "2024-01-01T08:00:00Z", 0},
		{"a dateTime without a zone is UTC", resolve(t, rt, "meta.created").Sub, "2024-01-01T08:00:00", "2024-01-01T09:00:00+01:00", 0},
		{"unparsable dateTimes compare as text", resolve(t, rt, "meta.created").Sub, "b", "a", 1},
		{"integers", resolve(t, rt, "level").Attr, int64(-5), int64(3), -1},
		{"large integers", resolve(t, rt, "level").Attr, int64(1<<53 + 1), int64(1 << 53), 1},
		{"an integer and a decimal", nil, int64(2), 2.5, -1},
		{"decimals", resolve(t, rt, "score").Attr, 2.5, 2.5, 0},
		{"booleans", resolve(t, rt, "active").Attr, true, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resource.CompareValues(tt.attr, tt.a, tt.b); got != tt.want {
				t.Errorf("CompareValues(%v, %v) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := resource.CompareValues(tt.attr, tt.b, tt.a); got != -tt.want {
				t.Errorf("CompareValues(%v, %v) = %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}
