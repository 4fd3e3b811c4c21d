package server_test

import (
	"testing"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/server"
)

func TestRootSearchCoversUsersAndGroups(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		for _, n := range []string{"ann", "bob", "cy"} {
			a.create(t, "/Users", `{"userName":"`+n+`","displayName":"Team `+n+`"}`)
		}
		a.create(t, "/Groups", `{"displayName":"Team Eng"}`)
		a.create(t, "/Groups", `{"displayName":"Ops"}`)
		search := func(body map[string]any) (int, []string) {
			t.Helper()
			body["schemas"] = []string{scim.SearchRequestURN}
			lr := a.must(t, 200, "POST", "/.search", body)
			var names []string
			for _, r := range lr["Resources"].([]any) {
				names = append(names, r.(map[string]any)["displayName"].(string))
			}
			return len(names), names
		}
		_, all := search(map[string]any{"filter": `displayName sw "team"`})
		if len(all) != 4 || all[3] != "Team Eng" {
			t.Fatalf("displayName sw team over both types = %v, want 3 users then Team Eng", all)
		}
		_, page := search(map[string]any{"filter": `displayName sw "team"`, "startIndex": 3, "count": 2})
		if len(page) != 2 || page[0] != "Team cy" || page[1] != "Team Eng" {
			t.Fatalf("a page across the types = %v, want Team cy, Team Eng", page)
		}
		// userName exists only on users: groups contribute nothing.
		if _, users := search(map[string]any{"filter": `userName eq "bob"`}); len(users) != 1 {
			t.Fatalf("userName eq bob = %v", users)
		}
		a.mustFail(t, 400, scim.InvalidFilter, "POST", "/.search", map[string]any{"schemas": []string{scim.SearchRequestURN}, "filter": "displayName eq"})
		a.mustFail(t, 400, scim.InvalidValue, "POST", "/.search", map[string]any{"schemas": []string{scim.SearchRequestURN}, "sortBy": "displayName"})
	})
}
