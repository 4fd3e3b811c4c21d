package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/rosterhq/roster/server"
)

// The tests in this file replay what Okta sends, in the order
// ../shared/clients/REAL-CLIENTS.md lists it (Okta items 1 to 7).

// Okta 1: lookup before create.
func TestOktaLooksUpAUserBeforeCreatingIt(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		lookup := func(userName string) string {
			return "/Users" + query("filter", fmt.Sprintf("userName eq %q", userName), "startIndex", "1", "count", "100")
		}

		total, found := a.list(t, lookup("alice@x.com"))
		if total != 0 || len(found) != 0 {
			t.Fatalf("a lookup in an empty directory found %d users (%v), want 0", total, found)
		}

		alice := a.create(t, "/Users", oktaUser("alice@x.com", "Alice", "Smith"), "Content-Type", "application/json")
		for _, name := range []string{"alice@x.com", "ALICE@X.COM", "Alice@X.com"} {
			total, found := a.list(t, lookup(name))
			if total != 1 || len(found) != 1 || found[0]["id"] != alice["id"] {
				t.Errorf("a lookup of %s found %d users %v, want alice (%v)", name, total, ids(found), alice["id"])
			}
			for _, u := range found {
				mustNotHavePassword(t, "a lookup", u)
			}
		}

		// A near miss is still no match, and still a 200.
		total, found = a.list(t, lookup("alice@x.co"))
		if total != 0 || len(found) != 0 {
			t.Errorf("a lookup of alice@x.co found %d users, want 0", total)
		}
	})
}

// Okta 2: create, and 409 for a userName that exists in another case.
func TestOktaCreatesAUser(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		u := a.create(t, "/Users", oktaUser("bob@x.com", "Bob", "Jones"), "Content-Type", "application/json")

		want := map[string]any{
			"userName":    "bob@x.com",
			"displayName": "Bob Jones",
			"locale":      "en-US",
			"externalId":  "00ubobjones",
			"active":      true,
		}
		for k, v := range want {
			if u[k] != v {
				t.Errorf("the created user's %s is %#v, want %#v", k, u[k], v)
			}
		}
		if at(u, "name", "givenName") != "Bob" || at(u, "name", "familyName") != "Jones" {
			t.Errorf("the created user's name is %v, want Bob Jones", u["name"])
		}
		if at(u, "emails", 0, "value") != "bob@x.com" || at(u, "emails", 0, "type") != "work" || at(u, "emails", 0, "primary") != true {
			t.Errorf("the created user's emails are %v", u["emails"])
		}
		if s, _ := u["schemas"].([]any); !slices.Contains(s, any(userURN)) {
			t.Errorf("the created user's schemas are %v, want them to hold %s", u["schemas"], userURN)
		}
		if at(u, "meta", "resourceType") != "User" || at(u, "meta", "created") == nil || at(u, "meta", "lastModified") == nil {
			t.Errorf("the created user's meta is %v", u["meta"])
		}
		if loc := at(u, "meta", "location"); loc != a.base+"/Users/"+u["id"].(string) {
			t.Errorf("the created user's meta.location is %v, want the Location header", loc)
		}
		mustNotHavePassword(t, "POST /Users", u)

		// The stored user reads back the same.
		if got := a.get(t, "/Users/"+u["id"].(string)); !jsonEqual(got, u) {
			t.Errorf("GET after POST differs from the POST's answer:\n got %v\nwant %v", got, u)
		}

		a.mustFail(t, http.StatusConflict, "uniqueness", http.MethodPost, "/Users",
			oktaUser("BOB@X.COM", "Robert", "Jones"), "Content-Type", "application/json")

		total, found := a.list(t, "/Users"+query("filter", `userName eq "Bob@x.com"`, "startIndex", "1", "count", "100"))
		if total != 1 || len(found) != 1 || found[0]["id"] != u["id"] || found[0]["displayName"] != "Bob Jones" {
			t.Errorf("after a 409 the lookup found %d users %v, want only the first Bob", total, found)
		}
	})
}

// Okta 3: import, 100 users a page, while a user changes between pages.
func TestOktaImportsUsersPageByPage(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		const n = 250
		created := map[string]string{} // id -> userName
		var first string
		for i := range n {
			u := a.create(t, "/Users", oktaUser(fmt.Sprintf("user%03d@x.com", i), fmt.Sprintf("Given%03d", i), "Family"),
				"Content-Type", "application/json")
			created[u["id"].(string)] = u["userName"].(string)
			if i == 0 {
				first = u["id"].(string)
			}
		}

		importAll := func(changeBetweenPages bool) []string {
			t.Helper()
			var order []string
			for start := 1; ; start += 100 {
				path := "/Users" + query("startIndex", fmt.Sprint(start), "count", "100")
				r := a.do(t, http.MethodGet, path, nil)
				lr := r.must(t, http.StatusOK)
				total, page := checkList(t, r, lr)
				if total != n {
					t.Fatalf("%s: totalResults is %d, want %d", path, total, n)
				}
				if got := integer(t, r, lr, "startIndex"); got != start {
					t.Fatalf("%s: startIndex is %d, want %d", path, got, start)
				}
				if want := min(100, max(0, n-start+1)); len(page) != want {
					t.Fatalf("%s: itemsPerPage is %d, want %d", path, len(page), want)
				}
				for _, u := range page {
					for _, p := range [][]any{{"id"}, {"userName"}, {"name", "givenName"}, {"name", "familyName"}, {"emails", 0, "value"}} {
						if s, _ := at(u, p...).(string); s == "" {
							t.Fatalf("%s: user %v lacks %v", path, u["id"], p)
						}
					}
					if _, ok := u["active"].(bool); !ok {
						t.Fatalf("%s: user %v has active %#v, want a boolean", path, u["id"], u["active"])
					}
					mustNotHavePassword(t, path, u)
				}
				order = append(order, ids(page)...)
				if changeBetweenPages && start == 1 {
					// A change to a user already read must not move it to a later page.
					a.must(t, http.StatusOK, http.MethodPatch, "/Users/"+first,
						patchOps(`{"op":"replace","value":{"displayName":"Changed during import"}}`))
				}
				if len(page) < 100 {
					break
				}
			}
			return order
		}

		order := importAll(true)
		seen := map[string]bool{}
		for _, id := range order {
			if _, ok := created[id]; !ok {
				t.Errorf("the import returned %s, which was not created", id)
			}
			if seen[id] {
				t.Errorf("the import returned %s (%s) twice", id, created[id])
			}
			seen[id] = true
		}
		if len(seen) != n {
			t.Errorf("the import returned %d distinct users, want %d", len(seen), n)
		}
		if again := importAll(false); !slices.Equal(order, again) {
			t.Errorf("a second import returned the users in another order")
		}
	})
}

// Okta 4: profile update, a GET then a PUT of the whole user.
func TestOktaUpdatesAProfile(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		id := a.create(t, "/Users", oktaUser("carol@x.com", "Carol", "White"), "Content-Type", "application/json")["id"].(string)

		u := a.get(t, "/Users/"+id)
		before := at(u, "meta", "version")
		u["userName"] = "carol.black@x.com"
		u["name"] = map[string]any{"givenName": "Carol", "familyName": "Black"}
		u["displayName"] = "Carol Black"
		u["emails"] = []any{map[string]any{"primary": true, "value": "carol.black@x.com", "type": "work"}}
		u["title"] = "Engineer"
		u["password"] = "an0ther-Secret!"
		r := a.do(t, http.MethodPut, "/Users/"+id, u, "Content-Type", "application/json")
		put := r.must(t, http.StatusOK)
		checkETag(t, r, put)
		mustNotHavePassword(t, "PUT /Users/ID", put)
		if put["id"] != id || put["userName"] != "carol.black@x.com" || put["displayName"] != "Carol Black" ||
			put["title"] != "Engineer" || at(put, "name", "familyName") != "Black" || at(put, "emails", 0, "value") != "carol.black@x.com" {
			t.Errorf("PUT answered %v, want the updated user", put)
		}
		if at(put, "meta", "version") == before {
			t.Errorf("PUT kept meta.version %v; it must change with the resource", before)
		}
		if got := a.get(t, "/Users/"+id); !jsonEqual(got, put) {
			t.Errorf("GET after PUT differs from the PUT's answer:\n got %v\nwant %v", got, put)
		}

		if total, _ := a.list(t, "/Users"+query("filter", `userName eq "carol@x.com"`)); total != 0 {
			t.Errorf("the old userName still finds %d users", total)
		}
		if total, found := a.list(t, "/Users"+query("filter", `userName eq "CAROL.BLACK@X.COM"`)); total != 1 || found[0]["id"] != id {
			t.Errorf("the new userName finds %d users, want carol", total)
		}
	})
}

// Okta 5: deactivate and reactivate with a path-less replace.
func TestOktaDeactivatesAndReactivatesAUser(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		created := a.create(t, "/Users", oktaUser("dave@x.com", "Dave", "Green"), "Content-Type", "application/json")
		id := created["id"].(string)

		for _, active := range []bool{false, true, false} {
			body := patchOps(fmt.Sprintf(`{"op":"replace","value":{"active":%t}}`, active))
			r := a.do(t, http.MethodPatch, "/Users/"+id, body, "Content-Type", "application/json")
			res := r.must(t, http.StatusOK)
			checkETag(t, r, res)
			if res["active"] != active {
				t.Fatalf("PATCH active=%t answered active %#v", active, res["active"])
			}
			got := a.get(t, "/Users/"+id)
			if got["active"] != active {
				t.Fatalf("after PATCH active=%t, GET shows active %#v", active, got["active"])
			}
			if got["userName"] != "dave@x.com" || at(got, "name", "givenName") != "Dave" || at(got, "emails", 0, "value") != "dave@x.com" {
				t.Errorf("PATCH active=%t changed other attributes: %v", active, got)
			}
			total, found := a.list(t, "/Users"+query("filter", fmt.Sprintf("active eq %t", active)))
			if total != 1 || found[0]["id"] != id {
				t.Errorf("filter active eq %t found %d users, want dave", active, total)
			}
		}
	})
}

// Okta 6: group push.
func TestOktaPushesAGroup(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		var users []string
		for _, name := range []string{"erin", "frank", "grace"} {
			users = append(users, a.create(t, "/Users", oktaUser(name+"@x.com", name, "Doe"), "Content-Type", "application/json")["id"].(string))
		}
		erin, frank, grace := users[0], users[1], users[2]

		g := a.create(t, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Engineering","members":[]}`,
			"Content-Type", "application/json")
		gid := g["id"].(string)
		if g["displayName"] != "Engineering" || len(values(g, "members")) != 0 || at(g, "meta", "resourceType") != "Group" {
			t.Fatalf("POST /Groups answered %v", g)
		}

		push := func(name string, ops ...string) {
			t.Helper()
			rename := fmt.Sprintf(`{"op":"replace","value":{"id":%q,"displayName":%q}}`, gid, name)
			a.must(t, http.StatusNoContent, http.MethodPatch, "/Groups/"+gid, patchOps(append([]string{rename}, ops...)...),
				"Content-Type", "application/json")
		}
		expect := func(name string, members ...string) {
			t.Helper()
			got := a.get(t, "/Groups/"+gid)
			if got["displayName"] != name {
				t.Errorf("the group is named %v, want %s", got["displayName"], name)
			}
			if m := values(got, "members"); !slices.Equal(m, sorted(members...)) {
				t.Errorf("the group's members are %v, want %v", m, sorted(members...))
			}
			for _, u := range users {
				in := slices.Contains(members, u)
				if got := slices.Contains(values(a.get(t, "/Users/"+u), "groups"), gid); got != in {
					t.Errorf("user %s lists the group in groups: %t, want %t", u, got, in)
				}
			}
		}

		member := func(id, display string) string {
			return fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q,"display":%q}]}`, id, display)
		}
		push("Engineering", member(erin, "erin Doe"))
		expect("Engineering", erin)
		push("Engineering", member(frank, "frank Doe"))
		push("Engineering", member(grace, "grace Doe"))
		expect("Engineering", erin, frank, grace)

		// Adding a member again does not duplicate it.
		push("Engineering", member(frank, "frank Doe"))
		expect("Engineering", erin, frank, grace)

		push("Eng", fmt.Sprintf(`{"op":"remove","path":%q}`, fmt.Sprintf("members[value eq %q]", frank)))
		expect("Eng", erin, grace)

		push("Eng", fmt.Sprintf(`{"op":"replace","path":"members","value":[{"value":%q},{"value":%q}]}`, frank, grace))
		expect("Eng", frank, grace)

		// With attributes asked for, a group PATCH answers 200 with them.
		r := a.do(t, http.MethodPatch, "/Groups/"+gid+query("attributes", "displayName"),
			patchOps(`{"op":"replace","value":{"displayName":"Engineering"}}`), "Content-Type", "application/json")
		res := r.must(t, http.StatusOK)
		if res["id"] != gid || res["displayName"] != "Engineering" {
			t.Errorf("PATCH ?attributes=displayName answered %v", res)
		}
		expect("Engineering", frank, grace)

		total, groups := a.list(t, "/Groups")
		if total != 1 || groups[0]["id"] != gid {
			t.Errorf("GET /Groups found %d groups %v, want the pushed group", total, ids(groups))
		}

		a.must(t, http.StatusNoContent, http.MethodDelete, "/Groups/"+gid, nil)
		a.mustFail(t, http.StatusNotFound, "", http.MethodGet, "/Groups/"+gid, nil)
		for _, u := range users {
			if got := a.get(t, "/Users/"+u); len(values(got, "groups")) != 0 {
				t.Errorf("after DELETE /Groups/GID user %s is still in groups %v", u, got["groups"])
			}
		}
		if total, _ := a.list(t, "/Users"); total != len(users) {
			t.Errorf("after DELETE /Groups/GID there are %d users, want %d", total, len(users))
		}
	})
}

// Okta 7: unknown ids and bad tokens.
func TestOktaGetsSCIMErrorsForUnknownIDsAndBadTokens(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T) {
		a := newAPI(t, server.Config{})
		for _, path := range []string{"/Users/00000000-0000-0000-0000-000000000000", "/Groups/no-such-group"} {
			a.mustFail(t, http.StatusNotFound, "", http.MethodGet, path, nil)
		}

		for name, c := range map[string]*api{"a wrong token": a.withToken("rst_not-a-real-token"), "no token": a.withToken("")} {
			r := c.do(t, http.MethodGet, "/Users"+query("filter", `userName eq "x@x.com"`, "startIndex", "1", "count", "100"), nil)
			r.mustFail(t, http.StatusUnauthorized, "")
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: %v; a 401 needs a WWW-Authenticate header", name, r)
			}
			var e map[string]json.RawMessage
			json.Unmarshal(r.Body, &e)
			if string(e["status"]) != `"401"` {
				t.Errorf("%s: the 401's status is %s, want \"401\"", name, e["status"])
			}
		}
	})
}
