package conformance

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

func authChecks() []Check {
	unauthorized := func(t *T, what string, header ...string) {
		resp := t.do(req{method: http.MethodGet, path: query("/Users", "count", "1"), anonymous: true, header: header})
		t.wantSCIMError(resp, what, http.StatusUnauthorized)
		if resp.Header.Get("WWW-Authenticate") == "" {
			t.Warnf("%s: the 401 has no WWW-Authenticate header (RFC 9110 §15.5.2, RFC 6750 §3)", what)
		}
	}
	return []Check{
		{
			ID: "auth.no_credentials_401", Tags: []string{"auth", "okta"}, Ref: "RFC 7644 §2, §3.12; Okta SCIM 2.0 spec test",
			Title: "a request without credentials gets 401 with the SCIM error schema",
			Run:   func(t *T) { unauthorized(t, "GET /Users without credentials") },
		},
		{
			ID: "auth.wrong_token_401", Tags: []string{"auth", "okta"}, Ref: "RFC 7644 §2, §3.12; RFC 6750 §3.1; Okta SCIM 2.0 spec test",
			Title: "a request with a wrong bearer token gets 401 with the SCIM error schema",
			Run: func(t *T) {
				unauthorized(t, "GET /Users with a wrong token", "Authorization", "Bearer roster-conform-wrong-"+t.r.prefix)
			},
		},
		{
			ID: "auth.wrong_basic_401", Tags: []string{"auth"}, Ref: "RFC 7644 §2; RFC 7617",
			Title: "a request with wrong HTTP Basic credentials gets 401",
			Run: func(t *T) {
				resp := t.do(req{method: http.MethodGet, path: query("/Users", "count", "1"), anonymous: true,
					header: []string{"Authorization", "Basic cm9zdGVyLWNvbmZvcm06d3Jvbmc="}})
				t.wantStatus(resp, "GET /Users with wrong HTTP Basic credentials", http.StatusUnauthorized)
			},
		},
	}
}

func errorChecks() []Check {
	return []Check{
		{
			ID: "errors.get_unknown_404", Tags: []string{"errors", "okta"}, Ref: "RFC 7644 §3.4.1, §3.12; Okta SCIM 2.0 spec test",
			Title: "GET of an id that does not exist gets 404 with the SCIM error schema and a detail",
			Run: func(t *T) {
				resp := t.get("/Users/" + url.PathEscape(t.r.prefix+"-no-such-id"))
				t.wantSCIMError(resp, "GET an unknown user", http.StatusNotFound)
				if d, _ := resp.object(t)["detail"].(string); d == "" {
					t.Warnf("the 404 has no detail, which Okta shows its admins")
				}
			},
		},
		{
			ID: "errors.unknown_group_404", Tags: []string{"errors"}, Ref: "RFC 7644 §3.4.1, §3.12", Needs: []Feature{FeatureGroups},
			Title: "GET of a group id that does not exist gets 404 with the SCIM error schema",
			Run: func(t *T) {
				t.wantSCIMError(t.get("/Groups/"+url.PathEscape(t.r.prefix+"-no-such-id")), "GET an unknown group", http.StatusNotFound)
			},
		},
		{
			ID: "errors.delete_unknown_404", Tags: []string{"errors"}, Ref: "RFC 7644 §3.6, §3.12", Writes: true,
			Title: "DELETE of an id that does not exist gets 404",
			Run: func(t *T) {
				t.wantSCIMError(t.del("/Users/"+url.PathEscape(t.r.prefix+"-no-such-id")), "DELETE an unknown user", http.StatusNotFound)
			},
		},
		{
			ID: "errors.invalid_json_400", Tags: []string{"errors"}, Ref: "RFC 7644 §3.12 (invalidSyntax)", Writes: true,
			Title: "a POST whose body is not JSON gets 400 invalidSyntax",
			Run: func(t *T) {
				resp := t.post("/Users", `{"userName": "`+t.r.name("broken")+`",`)
				t.trackIfCreated(resp)
				t.wantSCIMError(resp, "POST a body that is not JSON", http.StatusBadRequest, "invalidSyntax")
			},
		},
		{
			ID: "errors.missing_userName_400", Tags: []string{"errors"}, Ref: "RFC 7643 §4.1.1 (userName REQUIRED); RFC 7644 §3.3, §3.12", Writes: true,
			Title: "a user without userName gets 400 (invalidValue)",
			Run: func(t *T) {
				resp := t.post("/Users", map[string]any{"schemas": []string{userURN}, "displayName": t.r.name("nameless")})
				t.trackIfCreated(resp)
				t.wantSCIMError(resp, "POST a user without userName", http.StatusBadRequest, "invalidValue", "invalidSyntax")
			},
		},
		{
			ID: "errors.put_unknown_404", Tags: []string{"errors"}, Ref: "RFC 7644 §3.5.1, §3.12", Writes: true,
			Title: "PUT of an id that does not exist gets 404 (and creates nothing)",
			Run: func(t *T) {
				resp := t.put("/Users/"+url.PathEscape(t.r.prefix+"-no-such-id"), userBody(t.r.name("ghost")+"@conform.example"))
				t.trackIfCreated(resp)
				t.wantSCIMError(resp, "PUT an unknown user", http.StatusNotFound)
			},
		},
	}
}

// trackIfCreated remembers the resource a request created where it
// should not have, so that the run deletes it.
func (t *T) trackIfCreated(resp *Response) {
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		return
	}
	if id := str(resp.objectOrNil(), "id"); id != "" {
		endpoint := "/Users/"
		if strings.HasPrefix(resp.Path, "/Groups") {
			endpoint = "/Groups/"
		}
		t.r.track(t.r.base + endpoint + url.PathEscape(id))
	}
}

func userChecks() []Check {
	return []Check{
		{
			ID: "users.create", Tags: []string{"users", "okta", "entra"}, Ref: "RFC 7644 §3.3", Writes: true,
			Title: "POST /Users answers 201 with the created user: its id, userName, meta, and a Location header",
			Run: func(t *T) {
				name := t.r.name("create") + "@conform.example"
				body := userBody(name)
				body["password"] = "Conform-" + t.r.prefix + "-pw1!"
				resp := t.post("/Users", body)
				t.wantStatus(resp, "create a user", http.StatusCreated)
				m := resp.object(t)
				id := str(m, "id")
				if id == "" {
					t.Failf("the 201 has no id: %s", resp)
				}
				t.r.track(t.r.base + "/Users/" + url.PathEscape(id))
				t.Expect("the created user's userName", name, str(m, "userName"))
				if _, ok := getFold(m, "password"); ok {
					t.Failf("the answer returns the password, which RFC 7643 §4.1.1 says is never returned")
				}
				if !hasString(m["schemas"], userURN) {
					t.Failf("the created user's schemas lack %s: %s", userURN, resp)
				}
				if str(m, "meta.resourceType") != "User" {
					t.Warnf("meta.resourceType is %q, not \"User\" (RFC 7643 §3.1)", str(m, "meta.resourceType"))
				}
				if resp.Header.Get("Location") == "" {
					t.Warnf("the 201 has no Location header (RFC 7644 §3.3 SHALL)")
				}
				t.wantSCIMJSON(resp)
			},
		},
		{
			ID: "users.meta_location", Tags: []string{"users"}, Ref: "RFC 7643 §3.1 (meta.location); RFC 7644 §3.3 (Location)", Writes: true,
			Title: "a created user's meta.location is its URI: the Location header, and a GET of it answers the user",
			Run: func(t *T) {
				resp := t.post("/Users", userBody(t.r.name("loc")+"@conform.example"))
				t.trackIfCreated(resp)
				t.wantStatus(resp, "create a user", http.StatusCreated)
				m := resp.object(t)
				loc := str(m, "meta.location")
				if loc == "" {
					t.Failf("the created user has no meta.location: %s", resp)
				}
				if u, err := url.Parse(loc); err != nil || !u.IsAbs() {
					t.Failf("meta.location %q is not an absolute URI (RFC 7643 §3.1: the URI of the resource)", loc)
				}
				if h := resp.Header.Get("Location"); h != "" && h != loc {
					t.Warnf("the Location header %q differs from meta.location %q", h, loc)
				}
				if !strings.HasPrefix(loc, t.r.base+"/") {
					t.expected, t.got = "a URI under "+t.r.base+"/", loc
					t.Failf("meta.location %q is not under the base URL %s: not followed, so that the run's credentials go nowhere else", loc, t.r.base)
				}
				got := t.get(loc)
				t.wantStatus(got, "GET meta.location "+loc, http.StatusOK)
				t.Expect("the id at meta.location", str(m, "id"), str(got.object(t), "id"))
			},
		},
		{
			ID: "users.get", Tags: []string{"users", "okta"}, Ref: "RFC 7644 §3.4.1", Writes: true,
			Title: "GET /Users/{id} answers the user as created",
			Run: func(t *T) {
				u := t.newUser("get")
				resp := t.get("/Users/" + url.PathEscape(u.ID))
				t.wantStatus(resp, "read the user", http.StatusOK)
				m := resp.object(t)
				t.Expect("id", u.ID, str(m, "id"))
				t.Expect("userName", u.UserName, str(m, "userName"))
				t.Expect("name.givenName", "Conform", str(m, "name.givenName"))
				if v, _ := getFold(m, "active"); v != true {
					t.Failf("active is %#v, created true", v)
				}
			},
		},
		{
			ID: "users.replace", Tags: []string{"users", "okta"}, Ref: "RFC 7644 §3.5.1", Writes: true,
			Title: "PUT /Users/{id} replaces the user and answers it",
			Run: func(t *T) {
				u := t.newUser("replace")
				body := userBody(u.UserName)
				body["displayName"] = "Replaced"
				body["id"] = u.ID
				resp := t.put("/Users/"+url.PathEscape(u.ID), body)
				t.wantStatus(resp, "replace the user", http.StatusOK)
				t.Expect("displayName in the PUT's answer", "Replaced", str(resp.object(t), "displayName"))
				got := t.get("/Users/" + url.PathEscape(u.ID))
				t.wantStatus(got, "read the user", http.StatusOK)
				t.Expect("displayName read back", "Replaced", str(got.object(t), "displayName"))
			},
		},
		{
			ID: "users.delete", Tags: []string{"users", "entra"}, Ref: "RFC 7644 §3.6", Writes: true,
			Title: "DELETE /Users/{id} answers 204, and the user is gone (404)",
			Run: func(t *T) {
				u := t.newUser("delete")
				t.wantStatus(t.del("/Users/"+url.PathEscape(u.ID)), "delete the user", http.StatusNoContent)
				t.wantStatus(t.get("/Users/"+url.PathEscape(u.ID)), "read the deleted user", http.StatusNotFound)
			},
		},
		{
			ID: "users.duplicate_409", Tags: []string{"users", "okta"}, Ref: "RFC 7644 §3.3, §3.12 (uniqueness); Okta SCIM 2.0 spec test", Writes: true,
			Title: "creating a user whose userName exists gets 409 uniqueness",
			Run: func(t *T) {
				u := t.newUser("dup")
				resp := t.post("/Users", userBody(u.UserName))
				t.trackIfCreated(resp)
				t.wantSCIMError(resp, "create a second user with the same userName", http.StatusConflict, "uniqueness")
			},
		},
		{
			ID: "users.userName_case_insensitive_409", Tags: []string{"users", "okta"}, Ref: "RFC 7643 §4.1.1 (userName caseExact false); REAL-CLIENTS.md", Writes: true,
			Title: "creating a user whose userName differs from an existing one only in case gets 409",
			Run: func(t *T) {
				u := t.newUser("case")
				resp := t.post("/Users", userBody(strings.ToUpper(u.UserName)))
				t.trackIfCreated(resp)
				t.wantSCIMError(resp, "create "+strings.ToUpper(u.UserName)+" where "+u.UserName+" exists", http.StatusConflict, "uniqueness")
			},
		},
		{
			ID: "users.rename_conflict_409", Tags: []string{"users", "patch"}, Ref: "RFC 7644 §3.5.2, §3.12 (uniqueness); RFC 7643 §4.1.1", Writes: true,
			Needs: []Feature{FeaturePatch},
			Title: "renaming a user by PATCH to another user's userName (in another case) gets 409 and changes nothing",
			Run: func(t *T) {
				a, b := t.newUser("rena"), t.newUser("renb")
				resp := t.patch("/Users/"+url.PathEscape(b.ID), op("replace", "userName", strings.ToUpper(a.UserName)))
				t.wantSCIMError(resp, "rename a user to "+strings.ToUpper(a.UserName), http.StatusConflict, "uniqueness")
				t.Expect("the userName after the refused rename", b.UserName, str(t.readUser(b.ID), "userName"))
			},
		},
		{
			ID: "users.userName_unicode_case_409", Tags: []string{"users"}, Ref: "RFC 7643 §4.1.1 (caseExact false); RFC 7644 §3.4.2.2", Writes: true,
			Title: "userName case-insensitivity holds beyond ASCII: ÉMILE and émile are one userName",
			Run: func(t *T) {
				name := t.r.name("ÉMILE-ÅSA") + "@conform.example"
				t.createUser(userBody(name))
				resp := t.post("/Users", userBody(strings.ToLower(name)))
				t.trackIfCreated(resp)
				t.wantSCIMError(resp, "create "+strings.ToLower(name)+" where "+name+" exists", http.StatusConflict, "uniqueness")
				if t.r.features[FeatureFilter] {
					l := t.wantList(t.get(query("/Users", "filter", fmt.Sprintf("userName eq %q", strings.ToLower(name)))), "look up the lower-cased name")
					t.Expect("users found by the lower-cased name", 1, l.TotalResults)
				}
			},
		},
		{
			ID: "users.enterprise_extension", Tags: []string{"users", "entra"}, Ref: "RFC 7643 §4.3; Entra provisioning", Writes: true,
			Title: "a user created with the enterprise extension keeps its attributes",
			Run: func(t *T) {
				body := userBody(t.r.name("ent") + "@conform.example")
				body["schemas"] = []string{userURN, enterpriseURN}
				body[enterpriseURN] = map[string]any{"department": "R&D", "employeeNumber": "42"}
				u := t.createUser(body)
				resp := t.get("/Users/" + url.PathEscape(u.ID))
				t.wantStatus(resp, "read the user", http.StatusOK)
				m := resp.object(t)
				t.Expect("the enterprise department", "R&D", str(m, enterpriseURN+".department"))
				t.Expect("the enterprise employeeNumber", "42", str(m, enterpriseURN+".employeeNumber"))
			},
		},
	}
}
