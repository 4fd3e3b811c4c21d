package conformance

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// step names a step of a replayed sequence in a failure.
func (t *T) step(n int, what string) string { return fmt.Sprintf("step %d, %s", n, what) }

func oktaChecks() []Check {
	const okta = "Okta SCIM 2.0 spec test; REAL-CLIENTS.md (Okta)"
	return []Check{
		{
			ID: "okta.list_users", Tags: []string{"okta", "paging"}, Ref: "RFC 7644 §3.4.2.4; " + okta,
			Title: "GET /Users?startIndex=1&count=2 answers a ListResponse with integer totalResults, startIndex and itemsPerPage",
			Run: func(t *T) {
				l := t.wantList(t.get(query("/Users", "startIndex", "1", "count", "2")), "list users")
				if l.TotalResults > len(l.Resources) && (!l.hasItemsPerPage || !l.hasStartIndex) {
					t.Failf("a partial page lacks itemsPerPage or startIndex (RFC 7644 §3.4.2; Okta reads them)")
				}
				if len(l.Resources) > 2 {
					t.Failf("count=2 answered %d resources", len(l.Resources))
				}
				for _, r := range l.Resources {
					if str(r, "id") == "" || str(r, "userName") == "" {
						t.Failf("a listed user lacks id or userName: %v", r)
					}
				}
			},
		},
		{
			ID: "okta.groups_fast", Tags: []string{"okta", "groups"}, Ref: okta, Needs: []Feature{FeatureGroups},
			Title: "GET /Groups?startIndex=1&count=100 answers within 600 ms (warns otherwise)",
			Run: func(t *T) {
				resp := t.get(query("/Groups", "startIndex", "1", "count", "100"))
				t.wantList(resp, "list groups")
				t.Notef("answered in %v", resp.Duration.Round(time.Millisecond))
				if resp.Duration > 600*time.Millisecond {
					t.Warnf("GET /Groups took %v, over the 600 ms Okta's checker allows", resp.Duration.Round(time.Millisecond))
				}
			},
		},
		{
			ID: "okta.user_sequence", Tags: []string{"okta", "users"}, Ref: okta, Writes: true, Needs: []Feature{FeatureFilter, FeaturePatch},
			Title: "Okta's user sequence as it sends it: lookup, create (application/json), get, case-insensitive lookup, duplicate, PUT, deactivate",
			Run: func(t *T) {
				name := t.r.name("okta") + "@conform.example"
				lookup := func(n int, userName string, want int) {
					l := t.wantList(t.get(query("/Users", "filter", fmt.Sprintf("userName eq %q", userName), "startIndex", "1", "count", "100")),
						t.step(n, "look up "+userName))
					t.Expect(t.step(n, "totalResults of the lookup of "+userName), want, l.TotalResults)
				}
				lookup(1, name, 0)
				body := userBody(name)
				body["locale"] = "en-US"
				body["externalId"] = t.r.prefix + "-okta-ext"
				body["groups"] = []any{}
				body["password"] = "Okta-" + t.r.prefix + "-pw1!"
				u := t.createUser(body, "Content-Type", "application/json")
				for _, a := range []string{"id", "userName", "name.givenName", "name.familyName"} {
					if str(u.Body, a) == "" {
						t.Failf("%s: the created user has no %s (Okta needs it)", t.step(2, "create"), a)
					}
				}
				resp := t.get("/Users/" + url.PathEscape(u.ID))
				t.wantStatus(resp, t.step(3, "get the user"), http.StatusOK)
				lookup(4, strings.ToUpper(name), 1)
				dup := t.post("/Users", body, "Content-Type", "application/json")
				t.trackIfCreated(dup)
				t.wantSCIMError(dup, t.step(5, "create the user again"), http.StatusConflict)
				m := resp.object(t)
				m["displayName"] = "Okta Updated"
				delete(m, "meta")
				put := t.put("/Users/"+url.PathEscape(u.ID), m, "Content-Type", "application/json")
				t.wantStatus(put, t.step(6, "PUT the whole user"), http.StatusOK)
				t.Expect(t.step(6, "displayName after the PUT"), "Okta Updated", str(put.object(t), "displayName"))
				after := t.patchUser(u.ID, t.step(7, "deactivate"), op("replace", "", map[string]any{"active": false}))
				if v, _ := getFold(after, "active"); v != false {
					t.Failf("%s: active is %#v", t.step(7, "deactivate"), v)
				}
				t.patchUser(u.ID, t.step(8, "reactivate"), op("replace", "", map[string]any{"active": true}))
			},
		},
		{
			ID: "okta.group_push", Tags: []string{"okta", "groups"}, Ref: okta, Writes: true, Needs: []Feature{FeatureGroups, FeaturePatch},
			Title: "Okta's group push as it sends it: create with no members, add with a rename op, remove by value path with a rename op, delete",
			Run: func(t *T) {
				a, b := t.newUser("opa"), t.newUser("opb")
				name := t.r.name("opush")
				id := t.createGroup(map[string]any{"schemas": []string{groupURN}, "displayName": name, "members": []any{}})
				rename := op("replace", "", map[string]any{"id": id, "displayName": name})
				t.patchGroup(id, t.step(2, "add two members"), rename,
					op("add", "members", []any{map[string]any{"value": a.ID, "display": a.UserName}, map[string]any{"value": b.ID, "display": b.UserName}}))
				t.wantMembers(id, t.step(2, "after adding two"), a.ID, b.ID)
				t.patchGroup(id, t.step(3, "remove a member"), rename, op("remove", fmt.Sprintf("members[value eq %q]", a.ID), nil))
				t.wantMembers(id, t.step(3, "after removing one"), b.ID)
				t.wantStatus(t.del("/Groups/"+url.PathEscape(id)), t.step(4, "delete the group"), http.StatusNoContent)
			},
		},
	}
}

func entraChecks() []Check {
	const entra = "Microsoft SCIM validator; REAL-CLIENTS.md (Entra)"
	return []Check{
		{
			ID: "entra.test_connection", Tags: []string{"entra", "filter"}, Ref: entra, Needs: []Feature{FeatureFilter},
			Title: "Entra's test connection: filters on values that exist nowhere answer 200 with empty lists, users and groups",
			Run: func(t *T) {
				l := t.wantList(t.get(query("/Users", "filter", fmt.Sprintf("userName eq %q", t.r.prefix+"-none@conform.example"))), "look up a random user")
				t.Expect("users found", 0, l.TotalResults)
				if !t.r.features[FeatureGroups] {
					return
				}
				l = t.wantList(t.get(query("/Groups", "filter", fmt.Sprintf("displayName eq %q", t.r.prefix+"-none"), "excludedAttributes", "members")), "look up a random group")
				t.Expect("groups found", 0, l.TotalResults)
			},
		},
		{
			ID: "entra.user_lifecycle", Tags: []string{"entra", "users"}, Ref: entra, Writes: true, Needs: []Feature{FeatureFilter, FeaturePatch},
			Title: "Entra's user lifecycle: create with the enterprise extension, look up by userName and externalId, update, disable, delete",
			Run: func(t *T) {
				name := t.r.name("entra") + "@conform.example"
				body := userBody(name)
				body["schemas"] = []string{userURN, enterpriseURN}
				body["externalId"] = t.r.prefix + "-entra-ext"
				body[enterpriseURN] = map[string]any{"department": "Sales", "employeeNumber": "7"}
				u := t.createUser(body)
				for n, f := range []string{fmt.Sprintf("userName eq %q", name), fmt.Sprintf("externalId eq %q", body["externalId"])} {
					resp := t.get(query("/Users", "filter", f))
					t.wantSCIMJSON(resp)
					l := t.wantList(resp, t.step(n+2, "look up by "+f))
					if len(l.Resources) != 1 || str(l.Resources[0], "id") != u.ID {
						t.Failf("%s: found %d users, expected the one created", t.step(n+2, f), len(l.Resources))
					}
				}
				m := t.patchUser(u.ID, t.step(4, "update"), op("Replace", "displayName", "Entra Updated"), op("Replace", "title", "Entra Title"),
					op("Replace", enterpriseURN+":department", "Marketing"))
				t.Expect(t.step(4, "displayName"), "Entra Updated", str(m, "displayName"))
				t.Expect(t.step(4, "department"), "Marketing", str(m, enterpriseURN+".department"))
				m = t.patchUser(u.ID, t.step(5, "disable"), op("Replace", "active", false))
				if v, _ := getFold(m, "active"); v != false {
					t.Failf("%s: active is %#v", t.step(5, "disable"), v)
				}
				t.wantStatus(t.del("/Users/"+url.PathEscape(u.ID)), t.step(6, "delete"), http.StatusNoContent)
			},
		},
		{
			ID: "entra.group_lifecycle", Tags: []string{"entra", "groups"}, Ref: entra, Writes: true, Needs: []Feature{FeatureGroups, FeaturePatch, FeatureFilter},
			Title: "Entra's group lifecycle: create empty, add several members in one PATCH, look up without members, remove members, delete",
			Run: func(t *T) {
				a, b, c := t.newUser("ega"), t.newUser("egb"), t.newUser("egc")
				id, name := t.newGroup("entra")
				t.patchGroup(id, t.step(2, "Add three members"), op("Add", "members", members(a.ID, b.ID, c.ID)))
				t.wantMembers(id, t.step(2, "after adding three"), a.ID, b.ID, c.ID)
				l := t.wantList(t.get(query("/Groups", "filter", fmt.Sprintf("displayName eq %q", name), "excludedAttributes", "members")), t.step(3, "look up the group"))
				if len(l.Resources) != 1 {
					t.Failf("%s: found %d groups", t.step(3, "look up"), len(l.Resources))
				}
				if _, ok := getFold(l.Resources[0], "members"); ok {
					t.Failf("%s: excludedAttributes=members still listed members", t.step(3, "look up"))
				}
				t.patchGroup(id, t.step(4, "Remove a member by value"), op("Remove", "members", members(a.ID)))
				t.patchGroup(id, t.step(5, "Remove a member by value path"), op("Remove", fmt.Sprintf("members[value eq %q]", b.ID), nil))
				t.wantMembers(id, t.step(5, "after removing two"), c.ID)
				t.wantStatus(t.del("/Groups/"+url.PathEscape(id)), t.step(6, "delete"), http.StatusNoContent)
			},
		},
	}
}
