package scim_test

import (
	"encoding/json"
	"testing"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

// The request bodies and lookups of ../shared/clients/REAL-CLIENTS.md, run
// through the core the way the server will: decode, match, encode.

func TestOktaCreateUserBodyDecodes(t *testing.T) {
	users := schema.NewRegistry().ResourceType("User")
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@x.com",
		"name":{"givenName":"Alice","familyName":"Ng"},"emails":[{"primary":true,"value":"alice@x.com","type":"work"}],
		"displayName":"Alice Ng","locale":"en-US","externalId":"00u1abcd","groups":[],"password":"t1meMa$heen","active":true}`
	u, err := resource.Decode(users, []byte(body), resource.Options{})
	if err != nil {
		t.Fatalf("Okta's create body: %v", err)
	}
	var out map[string]any
	if err := json.Unmarshal(u.AppendJSON(nil, nil), &out); err != nil {
		t.Fatal(err)
	}
	if _, ok := out["password"]; ok {
		t.Error("the password is written back")
	}
	if _, ok := out["groups"]; ok {
		t.Error("the readOnly groups sent by Okta were kept")
	}
	if u.Attrs["password"] != "t1meMa$heen" {
		t.Error("the password was not kept for the store to hash")
	}
	for _, k := range []string{"userName", "name", "emails", "active", "externalId", "displayName", "locale"} {
		if _, ok := out[k]; !ok {
			t.Errorf("%s is missing from the encoded user", k)
		}
	}
}

func TestEntraCreateUserBodyDecodes(t *testing.T) {
	users := schema.NewRegistry().ResourceType("User")
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","userName":"Test_User_00aa00aa@contoso.com","active":"True",
		"displayName":"Test User","emails":[{"primary":true,"type":"work","value":"Test_User_11bb11bb@contoso.com"}],
		"meta":{"resourceType":"User"},"name":{"familyName":"User","givenName":"Test"},"title":"Tester",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D","employeeNumber":"123",
		"manager":{"value":"6c1f4bd9-2b32-4e2b-b1ff-5f39b2c74baa"}}}`
	u, err := resource.Decode(users, []byte(body), resource.Options{})
	if err != nil {
		t.Fatalf("Entra's create body: %v", err)
	}
	if u.Attrs["active"] != true {
		t.Errorf("active = %#v, want true from \"True\"", u.Attrs["active"])
	}
	if _, ok := u.Attrs["meta"]; ok {
		t.Error("the client's readOnly meta was kept")
	}
	ext, _ := u.Attrs[schema.EnterpriseUserURN].(map[string]any)
	if ext["department"] != "R&D" {
		t.Errorf("enterprise extension = %v, want department R&D", ext)
	}
}

func TestClientLookupFiltersMatch(t *testing.T) {
	reg := schema.NewRegistry()
	users, groups := reg.ResourceType("User"), reg.ResourceType("Group")
	alice := map[string]any{
		"userName": "alice@x.com", "externalId": "00u1abcd",
		"emails": []any{map[string]any{"value": "alice@x.com", "type": "work", "primary": true}},
	}
	eng := map[string]any{"displayName": "Engineering"}
	cases := []struct {
		name   string
		rt     *schema.ResourceType
		filter string
		data   map[string]any
		want   bool
	}{
		{"Okta looks userName up case-insensitively", users, `userName eq "ALICE@X.COM"`, alice, true},
		{"Okta's lookup of someone else finds nothing", users, `userName eq "bob@x.com"`, alice, false},
		{"Entra looks up by externalId, which is caseExact", users, `externalId eq "00u1abcd"`, alice, true},
		{"externalId in another case is another user", users, `externalId eq "00U1ABCD"`, alice, false},
		{"Entra looks up by work email", users, `emails[type eq "work"].value eq "alice@x.com"`, alice, true},
		{"Entra's work-email lookup does not take a home email", users, `emails[type eq "home"].value eq "alice@x.com"`, alice, false},
		{"Entra joins its matching attributes with and", users, `userName eq "alice@x.com" and externalId eq "00u1abcd"`, alice, true},
		{"Entra looks groups up by displayName", groups, `displayName eq "engineering"`, eng, true},
		{"Entra's test connection asks for a value that does not exist", users, `userName eq "e6b9dc7a-0d4c-4dd8-8e1b-a0f5a1b4d9a8"`, alice, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := filter.Parse(tc.filter, tc.rt)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := filter.Match(f, tc.data); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEntraGroupReadExcludesMembers(t *testing.T) {
	groups := schema.NewRegistry().ResourceType("Group")
	g, err := resource.Decode(groups, []byte(`{"displayName":"Eng","members":[{"value":"a"},{"value":"b"}]}`), resource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g.SetID("g1")
	p, err := resource.NewProjection(groups, nil, []string{"members"})
	if err != nil {
		t.Fatal(err)
	}
	members, _ := groups.Resolve("members")
	if p.Includes(members) {
		t.Error("excludedAttributes=members still includes members, so a store would load them")
	}
	want := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Eng"}`
	if got := string(g.AppendJSON(nil, p)); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
