package patch_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/rosterhq/roster/scim/patch"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

var registry = schema.NewRegistry()

func userType() *schema.ResourceType  { return registry.ResourceType("User") }
func groupType() *schema.ResourceType { return registry.ResourceType("Group") }

// decode builds a resource from JSON, failing the test on error.
func decode(t testing.TB, rt *schema.ResourceType, body string) *resource.Resource {
	t.Helper()
	r, err := resource.Decode(rt, []byte(body), resource.Options{})
	if err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return r
}

// ops wraps operations in a PatchOp body.
func ops(operations ...string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(operations, ",") + `]}`
}

// apply parses and applies a PATCH body.
func apply(r *resource.Resource, body string, opts resource.Options) error {
	req, err := patch.Parse(r.Type, []byte(body), opts)
	if err != nil {
		return err
	}
	return req.Apply(r)
}

// asJSON returns r's attributes as generic JSON for comparison.
func asJSON(t testing.TB, r *resource.Resource) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.AppendJSON(nil, nil), &m); err != nil {
		t.Fatalf("encoded resource is not JSON: %v", err)
	}
	return m
}

// want decodes the expected resource JSON.
func want(t testing.TB, rt *schema.ResourceType, body string) map[string]any {
	t.Helper()
	return asJSON(t, decode(t, rt, body))
}

type applyCase struct {
	name   string
	rt     *schema.ResourceType
	before string
	body   string
	after  string
}

func runApplyCases(t *testing.T, cases []applyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := decode(t, tc.rt, tc.before)
			if err := apply(r, tc.body, resource.Options{}); err != nil {
				t.Fatalf("apply: %v", err)
			}
			got, exp := asJSON(t, r), want(t, tc.rt, tc.after)
			if !reflect.DeepEqual(got, exp) {
				g, _ := json.Marshal(got)
				e, _ := json.Marshal(exp)
				t.Fatalf("after PATCH\n got  %s\n want %s", g, e)
			}
		})
	}
}

const (
	babs  = "2819c223-7f76-453a-919d-413861904646"
	james = "08e1d05d-121c-4561-8b96-473d93df9210"
)

// The examples of RFC 7644 §3.5.2.
func TestApplyRFC7644Examples(t *testing.T) {
	group := `{"displayName":"Tour Guides","members":[{"value":"` + babs + `","display":"Babs Jensen"},{"value":"` + james + `","display":"James Smith"}]}`
	user := `{"userName":"bjensen","emails":[{"value":"bjensen@example.com","type":"work"},{"value":"babs@example.com","type":"home"}],
		"addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood"}]}`
	runApplyCases(t, []applyCase{
		{
			name:   "add appends a member (3.5.2.1)",
			rt:     groupType(),
			before: `{"displayName":"Tour Guides","members":[{"value":"` + james + `"}]}`,
			body:   ops(`{"op":"add","path":"members","value":[{"display":"Babs Jensen","$ref":"https://example.com/v2/Users/` + babs + `","value":"` + babs + `"}]}`),
			after:  `{"displayName":"Tour Guides","members":[{"value":"` + james + `"},{"display":"Babs Jensen","$ref":"https://example.com/v2/Users/` + babs + `","value":"` + babs + `"}]}`,
		},
		{
			name:   "add without a path adds emails and sets nickName (3.5.2.1)",
			rt:     userType(),
			before: `{"userName":"bjensen","emails":[{"value":"bjensen@example.com","type":"work"}]}`,
			body:   ops(`{"op":"add","value":{"emails":[{"value":"babs@jensen.org","type":"home"}],"nickname":"Babs"}}`),
			after:  `{"userName":"bjensen","nickName":"Babs","emails":[{"value":"bjensen@example.com","type":"work"},{"value":"babs@jensen.org","type":"home"}]}`,
		},
		{
			name:   "remove of members removes them all (3.5.2.2)",
			rt:     groupType(),
			before: group,
			body:   ops(`{"op":"remove","path":"members"}`),
			after:  `{"displayName":"Tour Guides"}`,
		},
		{
			name:   "remove through a filter removes one member (3.5.2.2)",
			rt:     groupType(),
			before: group,
			body:   ops(`{"op":"remove","path":"members[value eq \"` + babs + `\"]"}`),
			after:  `{"displayName":"Tour Guides","members":[{"value":"` + james + `","display":"James Smith"}]}`,
		},
		{
			name:   "remove through a filter with and removes the matching emails (3.5.2.2)",
			rt:     userType(),
			before: user,
			body:   ops(`{"op":"remove","path":"emails[type eq \"work\" and value ew \"example.com\"]"}`),
			after:  `{"userName":"bjensen","emails":[{"value":"babs@example.com","type":"home"}],"addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood"}]}`,
		},
		{
			name:   "remove then add swaps one member for another (3.5.2.2)",
			rt:     groupType(),
			before: `{"displayName":"Tour Guides","members":[{"value":"` + babs + `"}]}`,
			body: ops(`{"op":"remove","path":"members[value eq \"`+babs+`\"]"}`,
				`{"op":"add","path":"members","value":[{"display":"James Smith","value":"`+james+`"}]}`),
			after: `{"displayName":"Tour Guides","members":[{"display":"James Smith","value":"` + james + `"}]}`,
		},
		{
			name:   "replace of members replaces the whole list (3.5.2.3)",
			rt:     groupType(),
			before: group,
			body:   ops(`{"op":"replace","path":"members","value":[{"display":"James Smith","value":"` + james + `"}]}`),
			after:  `{"displayName":"Tour Guides","members":[{"display":"James Smith","value":"` + james + `"}]}`,
		},
		{
			name:   "replace through a filter replaces the work address (3.5.2.3)",
			rt:     userType(),
			before: user,
			body: ops(`{"op":"replace","path":"addresses[type eq \"work\"]","value":{"type":"work","streetAddress":"911 Universal City Plaza",
				"locality":"Hollywood","region":"CA","postalCode":"91608","country":"US","primary":true}}`),
			after: `{"userName":"bjensen","emails":[{"value":"bjensen@example.com","type":"work"},{"value":"babs@example.com","type":"home"}],
				"addresses":[{"type":"work","streetAddress":"911 Universal City Plaza","locality":"Hollywood","region":"CA","postalCode":"91608","country":"US","primary":true}]}`,
		},
		{
			name:   "replace of a sub-attribute through a filter changes only it (3.5.2.3)",
			rt:     userType(),
			before: user,
			body:   ops(`{"op":"replace","path":"addresses[type eq \"work\"].streetAddress","value":"1010 Broadway Ave"}`),
			after: `{"userName":"bjensen","emails":[{"value":"bjensen@example.com","type":"work"},{"value":"babs@example.com","type":"home"}],
				"addresses":[{"type":"work","streetAddress":"1010 Broadway Ave","locality":"Hollywood"}]}`,
		},
		{
			name:   "replace without a path replaces emails and nickName (3.5.2.3)",
			rt:     userType(),
			before: user,
			body:   ops(`{"op":"replace","value":{"emails":[{"value":"bjensen@example.com","type":"work","primary":true}],"nickname":"Babs"}}`),
			after: `{"userName":"bjensen","nickName":"Babs","emails":[{"value":"bjensen@example.com","type":"work","primary":true}],
				"addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood"}]}`,
		},
		{
			name:   "replace of a complex attribute keeps the sub-attributes it does not name (3.5.2.3)",
			rt:     userType(),
			before: `{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"}}`,
			body:   ops(`{"op":"replace","path":"name","value":{"givenName":"Babs"}}`),
			after:  `{"userName":"bjensen","name":{"givenName":"Babs","familyName":"Jensen"}}`,
		},
		{
			name:   "replace of an attribute that has no value adds it (3.5.2.3)",
			rt:     userType(),
			before: `{"userName":"bjensen"}`,
			body:   ops(`{"op":"replace","path":"title","value":"Tour Guide"}`),
			after:  `{"userName":"bjensen","title":"Tour Guide"}`,
		},
		{
			name:   "add of an email that is already there changes nothing (3.5.2.1)",
			rt:     userType(),
			before: `{"userName":"bjensen","emails":[{"value":"bjensen@example.com","type":"work"}]}`,
			body:   ops(`{"op":"add","path":"emails","value":[{"value":"bjensen@example.com","type":"work"}]}`),
			after:  `{"userName":"bjensen","emails":[{"value":"bjensen@example.com","type":"work"}]}`,
		},
		{
			name:   "setting primary on one email clears it on the others (3.5.2)",
			rt:     userType(),
			before: `{"userName":"bjensen","emails":[{"value":"a@example.com","type":"work","primary":true},{"value":"b@example.com","type":"home"}]}`,
			body:   ops(`{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}`),
			after:  `{"userName":"bjensen","emails":[{"value":"a@example.com","type":"work","primary":false},{"value":"b@example.com","type":"home","primary":true}]}`,
		},
		{
			name:   "remove of an extension attribute by its URN path",
			rt:     userType(),
			before: `{"userName":"bjensen","` + enterprise + `":{"employeeNumber":"701984","department":"Tour Operations"}}`,
			body:   ops(`{"op":"remove","path":"` + enterprise + `:employeeNumber"}`),
			after:  `{"userName":"bjensen","` + enterprise + `":{"department":"Tour Operations"}}`,
		},
		{
			name:   "remove of the last extension attribute drops the extension",
			rt:     userType(),
			before: `{"userName":"bjensen","` + enterprise + `":{"department":"Tour Operations"}}`,
			body:   ops(`{"op":"remove","path":"` + enterprise + `:department"}`),
			after:  `{"userName":"bjensen"}`,
		},
		{
			name:   "add with a whole extension as path sets its attributes",
			rt:     userType(),
			before: `{"userName":"bjensen"}`,
			body:   ops(`{"op":"add","path":"` + enterprise + `","value":{"department":"R&D","manager":{"value":"` + james + `"}}}`),
			after:  `{"userName":"bjensen","` + enterprise + `":{"department":"R&D","manager":{"value":"` + james + `"}}}`,
		},
		{
			name:   "remove of a sub-attribute of a complex attribute",
			rt:     userType(),
			before: `{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"}}`,
			body:   ops(`{"op":"remove","path":"name.familyName"}`),
			after:  `{"userName":"bjensen","name":{"givenName":"Barbara"}}`,
		},
		{
			name:   "replace with null unassigns and add of null changes nothing",
			rt:     userType(),
			before: `{"userName":"bjensen","title":"Boss","nickName":"Babs"}`,
			body:   ops(`{"op":"replace","path":"title","value":null}`, `{"op":"add","path":"nickName","value":null}`),
			after:  `{"userName":"bjensen","nickName":"Babs"}`,
		},
		{
			name:   "replace of a sub-attribute without a filter changes it in every value (3.5.2.3)",
			rt:     userType(),
			before: user,
			body:   ops(`{"op":"replace","path":"emails.value","value":"new@example.com"}`),
			after: `{"userName":"bjensen","emails":[{"value":"new@example.com","type":"work"},{"value":"new@example.com","type":"home"}],
				"addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood"}]}`,
		},
		{
			name:   "replace of emails.value changes the address of a user's one email",
			rt:     userType(),
			before: `{"userName":"bjensen","emails":[{"value":"old@example.com","type":"work","primary":true}]}`,
			body:   ops(`{"op":"replace","path":"emails.value","value":"new@example.com"}`),
			after:  `{"userName":"bjensen","emails":[{"value":"new@example.com","type":"work","primary":true}]}`,
		},
		{
			name:   "replace of emails.value on a user without emails adds one",
			rt:     userType(),
			before: `{"userName":"bjensen"}`,
			body:   ops(`{"op":"replace","path":"emails.value","value":"new@example.com"}`),
			after:  `{"userName":"bjensen","emails":[{"value":"new@example.com"}]}`,
		},
		{
			name:   "add of a sub-attribute without a filter sets it in every value",
			rt:     userType(),
			before: `{"userName":"bjensen","emails":[{"value":"a@example.com"},{"value":"b@example.com","type":"home"}]}`,
			body:   ops(`{"op":"add","path":"emails.type","value":"work"}`),
			after:  `{"userName":"bjensen","emails":[{"value":"a@example.com","type":"work"},{"value":"b@example.com","type":"work"}]}`,
		},
		{
			name:   "remove of a sub-attribute without a filter removes it from every value (3.5.2.2)",
			rt:     userType(),
			before: user,
			body:   ops(`{"op":"remove","path":"emails.type"}`),
			after: `{"userName":"bjensen","emails":[{"value":"bjensen@example.com"},{"value":"babs@example.com"}],
				"addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood"}]}`,
		},
		{
			name:   "replace of a sub-attribute without a filter with null removes it from every value",
			rt:     userType(),
			before: `{"userName":"bjensen","emails":[{"value":"a@example.com","type":"work"},{"value":"b@example.com"}]}`,
			body:   ops(`{"op":"replace","path":"emails.type","value":null}`),
			after:  `{"userName":"bjensen","emails":[{"value":"a@example.com"},{"value":"b@example.com"}]}`,
		},
		{
			name:   "remove through a filter that matches nothing changes nothing",
			rt:     groupType(),
			before: group,
			body:   ops(`{"op":"remove","path":"members[value eq \"nobody\"]"}`),
			after:  group,
		},
	})
}

func parseGroup(body string) (*patch.Request, error) {
	return patch.Parse(groupType(), []byte(body), resource.Options{})
}
