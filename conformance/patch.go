package conformance

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// patchUser sends a PATCH of a user and fails the check unless it
// answers 200 with the user or 204 (RFC 7644 §3.5.2); it returns the
// user as read back.
func (t *T) patchUser(id, what string, ops ...any) map[string]any {
	resp := t.patch("/Users/"+url.PathEscape(id), ops...)
	t.wantStatus(resp, what, http.StatusOK, http.StatusNoContent)
	if resp.Status == http.StatusOK && str(resp.object(t), "id") != id {
		t.Failf("%s: the 200 answer is not the user (RFC 7644 §3.5.2: 200 carries the resource): %s", what, resp)
	}
	return t.readUser(id)
}

// entraOnly wraps a check of what Entra sends and RFC 7644 does not
// require a server to take: a server that refuses it is strict, not
// wrong, so its failure is a warning unless the run's profile is entra,
// which asks whether Entra's provisioning will work.
func entraOnly(run func(t *T)) func(t *T) {
	return func(t *T) {
		defer func() {
			if t.status == Fail && t.r.cfg.Profile != ProfileEntra {
				t.status = Warn
				t.message = "Entra sends this and RFC 7644 does not require it (a failure under --profile entra): " + t.message
			}
		}()
		run(t)
	}
}

// readUser reads a user, failing the check unless it answers 200.
func (t *T) readUser(id string) map[string]any {
	resp := t.get("/Users/" + url.PathEscape(id))
	t.wantStatus(resp, "read the user", http.StatusOK)
	return resp.object(t)
}

// emailsOf returns a user's emails.
func emailsOf(m map[string]any) []map[string]any {
	v, _ := getFold(m, "emails")
	arr, _ := v.([]any)
	var out []map[string]any
	for _, x := range arr {
		if o, ok := x.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

func patchChecks() []Check {
	check := func(id, title, ref string, tags []string, run func(t *T)) Check {
		if ref == "" {
			ref = "RFC 7644 §3.5.2"
		}
		return Check{ID: id, Tags: append([]string{"patch"}, tags...), Ref: ref, Title: title, Writes: true, Needs: []Feature{FeaturePatch}, Run: run}
	}
	return []Check{
		check("patch.add", `add with a path sets an attribute ({"op":"add","path":"title"})`, "RFC 7644 §3.5.2.1", nil, func(t *T) {
			u := t.newUser("padd")
			m := t.patchUser(u.ID, "add title", op("add", "title", "Added"))
			t.Expect("title after add", "Added", str(m, "title"))
		}),
		check("patch.replace", "replace with a path changes an attribute", "RFC 7644 §3.5.2.3", nil, func(t *T) {
			u := t.newUser("prep")
			m := t.patchUser(u.ID, "replace displayName", op("replace", "displayName", "Replaced"))
			t.Expect("displayName after replace", "Replaced", str(m, "displayName"))
		}),
		check("patch.remove", "remove with a path removes an attribute", "RFC 7644 §3.5.2.2", nil, func(t *T) {
			body := userBody(t.r.name("prem") + "@conform.example")
			body["title"] = "To remove"
			u := t.createUser(body)
			m := t.patchUser(u.ID, "remove title", op("remove", "title", nil))
			if v := lookup(m, "title"); v != nil {
				t.Failf("title is %v after remove", v)
			}
		}),
		check("patch.replace_without_path", `replace without a path takes a map of attributes ({"op":"replace","value":{"active":false}}), as Okta deactivates`,
			"RFC 7644 §3.5.2.3; REAL-CLIENTS.md (Okta 5)", []string{"okta"}, func(t *T) {
				u := t.newUser("pnopath")
				m := t.patchUser(u.ID, "replace without a path", op("replace", "", map[string]any{"active": false, "displayName": "No Path"}))
				if v, _ := getFold(m, "active"); v != false {
					t.Failf("active is %#v after replacing it with false", v)
				}
				t.Expect("displayName", "No Path", str(m, "displayName"))
			}),
		check("patch.add_multi_valued", "add to a multi-valued attribute appends the values", "RFC 7644 §3.5.2.1", nil, func(t *T) {
			u := t.newUser("pmv")
			m := t.patchUser(u.ID, "add a home email", op("add", "emails", []any{map[string]any{"value": "home-" + u.UserName, "type": "home"}}))
			t.Expect("emails after adding one to one", 2, len(emailsOf(m)))
		}),
		check("patch.value_path_replace", `replace through a value path (emails[type eq "work"].value) changes that value only`, "RFC 7644 §3.5.2.3", nil, func(t *T) {
			body := userBody(t.r.name("pvp") + "@conform.example")
			body["emails"] = []any{map[string]any{"value": "w-" + t.r.prefix + "@conform.example", "type": "work"}, map[string]any{"value": "h-" + t.r.prefix + "@conform.example", "type": "home"}}
			u := t.createUser(body)
			m := t.patchUser(u.ID, "replace the work email", op("replace", `emails[type eq "work"].value`, "new-"+t.r.prefix+"@conform.example"))
			got := map[string]string{}
			for _, e := range emailsOf(m) {
				got[str(e, "type")] = str(e, "value")
			}
			t.Expect("the work email", "new-"+t.r.prefix+"@conform.example", got["work"])
			t.Expect("the home email", "h-"+t.r.prefix+"@conform.example", got["home"])
			t.Expect("emails", 2, len(emailsOf(m)))
		}),
		check("patch.value_path_remove", `remove through a value path (emails[type eq "home"]) removes the matching values only`, "RFC 7644 §3.5.2.2", nil, func(t *T) {
			body := userBody(t.r.name("pvr") + "@conform.example")
			body["emails"] = []any{map[string]any{"value": "w-" + t.r.prefix + "@conform.example", "type": "work"}, map[string]any{"value": "h-" + t.r.prefix + "@conform.example", "type": "home"}}
			u := t.createUser(body)
			m := t.patchUser(u.ID, "remove the home email", op("remove", `emails[type eq "home"]`, nil))
			es := emailsOf(m)
			if len(es) != 1 || str(es[0], "type") != "work" {
				t.Failf("expected only the work email left, got %v", es)
			}
		}),
		check("patch.remove_without_path_400", "remove without a path gets 400 noTarget", "RFC 7644 §3.5.2.2", nil, func(t *T) {
			u := t.newUser("pnotarget")
			resp := t.patch("/Users/"+url.PathEscape(u.ID), op("remove", "", nil))
			t.wantSCIMError(resp, "remove without a path", http.StatusBadRequest, "noTarget")
		}),
		check("patch.unknown_op_400", "an operation other than add, remove or replace gets 400", "RFC 7644 §3.5.2", nil, func(t *T) {
			u := t.newUser("pbadop")
			resp := t.patch("/Users/"+url.PathEscape(u.ID), op("frobnicate", "title", "x"))
			t.wantSCIMError(resp, "op frobnicate", http.StatusBadRequest)
		}),
		check("patch.ops_case_insensitive", `operation names are case-insensitive: Entra's "Replace" and "Add" take effect`,
			"RFC 7644 §3.5.2 (op names); REAL-CLIENTS.md (Entra 3)", []string{"entra"}, func(t *T) {
				u := t.newUser("pcase")
				m := t.patchUser(u.ID, "Replace and Add", op("Replace", "displayName", "Capital"), op("Add", "title", "Capital Title"))
				if str(m, "displayName") != "Capital" || str(m, "title") != "Capital Title" {
					t.expected, t.got = "displayName Capital, title Capital Title", fmt.Sprintf("displayName %q, title %q", str(m, "displayName"), str(m, "title"))
					t.Failf("capitalised ops answered success but changed nothing (a bug REAL-CLIENTS.md lists): %s", t.got)
				}
			}),
		check("patch.string_boolean", `Entra's {"op":"Replace","path":"active","value":"False"} deactivates (a string boolean: warns only)`,
			"REAL-CLIENTS.md (Entra 3)", []string{"entra"}, func(t *T) {
				u := t.newUser("pstrbool")
				resp := t.patch("/Users/"+url.PathEscape(u.ID), op("Replace", "active", "False"))
				if resp.Status != http.StatusOK && resp.Status != http.StatusNoContent {
					t.Warnf(`"active":"False" (a string) answered %s: Entra sends it, and RFC 7643 §2.3.2 has a boolean, so it only warns`, resp)
					return
				}
				if v, _ := getFold(t.readUser(u.ID), "active"); v != false {
					t.Warnf(`"active":"False" answered %d but active is %#v`, resp.Status, v)
				}
			}),
		check("patch.no_path_dotted_keys", `replace without a path takes Entra's dotted and URN-qualified keys ("name.givenName", "urn:…:User:department")`,
			"REAL-CLIENTS.md (Entra 3)", []string{"entra"}, entraOnly(func(t *T) {
				u := t.newUser("pdotted")
				m := t.patchUser(u.ID, "replace with dotted keys", op("Replace", "", map[string]any{
					"active": false, "name.givenName": "Ann", enterpriseURN + ":department": "R&D"}))
				t.Expect("name.givenName", "Ann", str(m, "name.givenName"))
				t.Expect("the enterprise department", "R&D", str(m, enterpriseURN+".department"))
				if v, _ := getFold(m, "active"); v != false {
					t.Failf("active is %#v after replacing it with false", v)
				}
			})),
		check("patch.add_through_filter_builds_one", `Entra's Add of emails[type eq "work"].value, then .primary, builds one work email`,
			"REAL-CLIENTS.md (Entra 3)", []string{"entra"}, entraOnly(func(t *T) {
				body := userBody(t.r.name("pbuild") + "@conform.example")
				delete(body, "emails")
				u := t.createUser(body)
				value := "built-" + t.r.prefix + "@conform.example"
				m := t.patchUser(u.ID, "Add the work email", op("Add", `emails[type eq "work"].value`, value))
				m = t.patchUser(u.ID, "Add primary to the work email", op("Add", `emails[type eq "work"].primary`, true))
				es := emailsOf(m)
				if len(es) != 1 || str(es[0], "value") != value || es[0]["primary"] != true {
					t.expected, t.got = fmt.Sprintf(`one email {"type":"work","value":%q,"primary":true}`, value), fmt.Sprint(es)
					t.Failf("expected one work email with its value and primary, got %v", es)
				}
			})),
		check("patch.manager_set_and_remove", "Entra sets the enterprise manager by its id (a string value) and removes it",
			"RFC 7643 §4.3; REAL-CLIENTS.md (Entra 3)", []string{"entra"}, func(t *T) {
				boss := t.newUser("boss")
				u := t.newUser("report")
				path := enterpriseURN + ":manager"
				m := t.patchUser(u.ID, "Replace the manager", op("Replace", path, boss.ID))
				t.Expect("the manager's value", boss.ID, str(m, enterpriseURN+".manager.value"))
				m = t.patchUser(u.ID, "Remove the manager", op("Remove", path, nil))
				if v := lookup(m, enterpriseURN+".manager"); v != nil {
					t.Failf("the manager is %v after Remove", v)
				}
			}),
		check("patch.manager_remove_by_value_filter", `Entra's remove of manager[value eq "ID"] on the single-valued manager removes it`,
			"REAL-CLIENTS.md (Entra 3)", []string{"entra"}, entraOnly(func(t *T) {
				boss := t.newUser("boss2")
				u := t.newUser("report2")
				t.patchUser(u.ID, "set the manager", op("Replace", enterpriseURN+":manager", map[string]any{"value": boss.ID}))
				m := t.patchUser(u.ID, "Remove manager[value eq …]", op("Remove", fmt.Sprintf("%s:manager[value eq %q]", enterpriseURN, boss.ID), nil))
				if v := lookup(m, enterpriseURN+".manager"); v != nil {
					t.Failf("the manager is %v after the Remove", v)
				}
			})),
		check("patch.empty_operations", "a PATCH with no operations, as Microsoft's validator sends, is a no-op (warns only: RFC 7644 asks for one or more)",
			"RFC 7644 §3.5.2; REAL-CLIENTS.md (Entra 8)", []string{"entra"}, func(t *T) {
				u := t.newUser("pempty")
				resp := t.patch("/Users/" + url.PathEscape(u.ID))
				if resp.Status != http.StatusOK && resp.Status != http.StatusNoContent {
					t.Warnf("an empty Operations array answered %s; Microsoft's validator sends it", resp)
				}
			}),
	}
}

func etagChecks() []Check {
	version := func(t *T, id string) string {
		resp := t.get("/Users/" + url.PathEscape(id))
		t.wantStatus(resp, "read the user", http.StatusOK)
		v := resp.Header.Get("ETag")
		if v == "" {
			t.Failf("the server advertises etag, but GET /Users/{id} has no ETag header (RFC 7644 §3.14)")
		}
		return v
	}
	check := func(id, title string, run func(t *T)) Check {
		return Check{ID: id, Tags: []string{"etag"}, Ref: "RFC 7644 §3.14", Title: title, Writes: true, Needs: []Feature{FeatureETag}, Run: run}
	}
	return []Check{
		check("etag.version", "GET of a resource answers an ETag header equal to its meta.version", func(t *T) {
			u := t.newUser("etag")
			resp := t.get("/Users/" + url.PathEscape(u.ID))
			t.wantStatus(resp, "read the user", http.StatusOK)
			etag := resp.Header.Get("ETag")
			if etag == "" {
				t.Failf("the server advertises etag, but GET /Users/{id} has no ETag header")
			}
			if mv := str(resp.object(t), "meta.version"); mv != etag {
				t.Warnf("meta.version %q differs from the ETag header %q", mv, etag)
			}
		}),
		check("etag.if_match_stale_412", "a PATCH with a stale If-Match gets 412 and changes nothing", func(t *T) {
			u := t.newUser("stale")
			old := version(t, u.ID)
			t.patchUser(u.ID, "change the user", op("replace", "displayName", "Changed"))
			if version(t, u.ID) == old {
				t.Failf("the ETag did not change when the user changed")
			}
			resp := t.do(req{method: http.MethodPatch, path: "/Users/" + url.PathEscape(u.ID),
				body: patchBody(op("replace", "displayName", "Stale write")), header: []string{"If-Match", old}})
			t.wantStatus(resp, "PATCH with the stale If-Match "+old, http.StatusPreconditionFailed)
			t.Expect("displayName after the refused PATCH", "Changed", str(t.readUser(u.ID), "displayName"))
		}),
		check("etag.put_stale_412", "a PUT with a stale If-Match gets 412", func(t *T) {
			u := t.newUser("pstale")
			old := version(t, u.ID)
			t.patchUser(u.ID, "change the user", op("replace", "displayName", "Changed"))
			body := userBody(u.UserName)
			resp := t.put("/Users/"+url.PathEscape(u.ID), body, "If-Match", old)
			t.wantStatus(resp, "PUT with the stale If-Match "+old, http.StatusPreconditionFailed)
		}),
		check("etag.group_if_match_stale_412", "a group PATCH with a stale If-Match gets 412", func(t *T) {
			if !t.r.features[FeatureGroups] || !t.r.features[FeaturePatch] {
				t.Skipf("needs groups and PATCH")
			}
			u := t.newUser("getag")
			id, _ := t.newGroup("getag")
			resp := t.get("/Groups/" + url.PathEscape(id))
			t.wantStatus(resp, "read the group", http.StatusOK)
			old := resp.Header.Get("ETag")
			if old == "" {
				t.Failf("the server advertises etag, but GET /Groups/{id} has no ETag header (RFC 7644 §3.14)")
			}
			t.patchGroup(id, "add a member", op("add", "members", members(u.ID)))
			stale := t.do(req{method: http.MethodPatch, path: "/Groups/" + url.PathEscape(id),
				body: patchBody(op("replace", "displayName", t.r.name("stale"))), header: []string{"If-Match", old}})
			t.wantStatus(stale, "PATCH the group with the stale If-Match "+old, http.StatusPreconditionFailed)
		}),
		check("etag.if_match_current", "a PATCH with the current If-Match succeeds", func(t *T) {
			u := t.newUser("current")
			resp := t.do(req{method: http.MethodPatch, path: "/Users/" + url.PathEscape(u.ID),
				body: patchBody(op("replace", "displayName", "Fresh")), header: []string{"If-Match", version(t, u.ID)}})
			t.wantStatus(resp, "PATCH with the current If-Match", http.StatusOK, http.StatusNoContent)
		}),
		check("etag.if_none_match_304", "a GET with If-None-Match of the current version answers 304 (warns otherwise)", func(t *T) {
			u := t.newUser("inm")
			resp := t.get("/Users/"+url.PathEscape(u.ID), "If-None-Match", version(t, u.ID))
			if resp.Status != http.StatusNotModified {
				t.Warnf("GET with If-None-Match of the current version answered %d, not 304", resp.Status)
			}
		}),
	}
}

// bulkOp is one operation of a bulk request.
func bulkOp(method, path, bulkID string, data any) map[string]any {
	o := map[string]any{"method": method, "path": path}
	if bulkID != "" {
		o["bulkId"] = bulkID
	}
	if data != nil {
		o["data"] = data
	}
	return o
}

// bulk sends a bulk request and returns its answer's operations, each
// with its status as an int; it tracks what the operations created.
func (t *T) bulk(failOnErrors int, ops ...any) (*Response, []map[string]any) {
	body := map[string]any{"schemas": []string{bulkURN}, "Operations": ops}
	if failOnErrors > 0 {
		body["failOnErrors"] = failOnErrors
	}
	paths := map[string]string{} // the path of each bulkId's operation
	for _, x := range ops {
		if o, ok := x.(map[string]any); ok {
			if id, _ := o["bulkId"].(string); id != "" {
				paths[id], _ = o["path"].(string)
			}
		}
	}
	resp := t.post("/Bulk", body)
	if resp.Status != http.StatusOK {
		return resp, nil
	}
	m := resp.object(t)
	arr, _ := m["Operations"].([]any)
	var out []map[string]any
	for _, x := range arr {
		o, _ := x.(map[string]any)
		if o == nil {
			t.Failf("a BulkResponse operation is %#v, not an object", x)
		}
		if id := lastSegment(str(o, "location")); id != "" && (strings.EqualFold(str(o, "method"), "POST") || o["method"] == nil) {
			// The location is the server's word: only its id is taken,
			// so that the cleanup sends nothing outside the base URL.
			endpoint := "/Users/"
			if p := paths[str(o, "bulkId")]; strings.HasPrefix(p, "/Groups") || p == "" && strings.Contains(str(o, "location"), "/Groups/") {
				endpoint = "/Groups/"
			}
			t.r.track(t.r.base + endpoint + url.PathEscape(id))
		}
		out = append(out, o)
	}
	return resp, out
}

// bulkStatus returns a BulkResponse operation's status code: a string
// (RFC 7644 §3.7.3) or, as some servers send, a number or an object.
func bulkStatus(o map[string]any) string {
	switch s := o["status"].(type) {
	case string:
		return s
	case map[string]any:
		return fmt.Sprint(s["code"])
	default:
		return fmt.Sprint(s)
	}
}

func bulkChecks() []Check {
	return []Check{
		{
			ID: "bulk.bulkId_reference", Tags: []string{"bulk"}, Ref: "RFC 7644 §3.7.2", Writes: true, Needs: []Feature{FeatureBulk, FeatureGroups},
			Title: "a bulk request creates a user and a group whose member is bulkId:… of that user",
			Run: func(t *T) {
				name := t.r.name("bulk") + "@conform.example"
				resp, ops := t.bulk(0,
					bulkOp("POST", "/Users", "u1", userBody(name)),
					bulkOp("POST", "/Groups", "g1", map[string]any{"schemas": []string{groupURN}, "displayName": t.r.name("bulkgroup"),
						"members": []any{map[string]any{"value": "bulkId:u1"}}}))
				t.wantStatus(resp, "the bulk request", http.StatusOK)
				if len(ops) != 2 {
					t.Failf("the BulkResponse has %d operations for 2: %s", len(ops), resp)
				}
				for _, o := range ops {
					t.Expect("the status of bulk operation "+str(o, "bulkId"), "201", bulkStatus(o))
				}
				userID, groupID := lastSegment(str(ops[0], "location")), lastSegment(str(ops[1], "location"))
				if userID == "" || groupID == "" {
					t.Failf("a created operation has no location (RFC 7644 §3.7.3): %s", resp)
				}
				t.Expect("the group's members", "["+userID+"]", fmt.Sprint(t.groupMembers(groupID)))
			},
		},
		{
			ID: "bulk.fail_on_errors", Tags: []string{"bulk"}, Ref: "RFC 7644 §3.7.3", Writes: true, Needs: []Feature{FeatureBulk, FeatureFilter},
			Title: "failOnErrors=1 stops at the first failed operation: the operations after it are not run",
			Run: func(t *T) {
				first := t.r.name("bulkfoe") + "@conform.example"
				last := t.r.name("bulkfoe-never") + "@conform.example"
				resp, ops := t.bulk(1,
					bulkOp("POST", "/Users", "a", userBody(first)),
					bulkOp("POST", "/Users", "b", userBody(first)),
					bulkOp("POST", "/Users", "c", userBody(last)))
				t.wantStatus(resp, "the bulk request", http.StatusOK)
				if len(ops) != 2 {
					t.expected, t.got = "2 operations (the created user, the 409)", fmt.Sprint(len(ops))
					t.Failf("failOnErrors=1: expected the answer to stop after the first error (2 operations), got %d: %s", len(ops), resp)
				}
				t.Expect("the duplicate's status", "409", bulkStatus(ops[1]))
				l := t.wantList(t.get(query("/Users", "filter", fmt.Sprintf("userName eq %q", last))), "look for the user after the error")
				t.Expect("users created after the error", 0, l.TotalResults)
			},
		},
		{
			ID: "bulk.max_operations", Tags: []string{"bulk"}, Ref: "RFC 7644 §3.7.4", Writes: true, Needs: []Feature{FeatureBulk},
			Title: "a bulk request of more than maxOperations operations gets 413",
			Run: func(t *T) {
				n := t.r.spc.Bulk.MaxOperations
				if n <= 0 || n > 5000 {
					t.Skipf("maxOperations is %d: too many (or too few) to send one more", n)
				}
				var ops []any
				for i := range n + 1 {
					ops = append(ops, bulkOp("DELETE", fmt.Sprintf("/Users/%s-no-such-id-%d", t.r.prefix, i), "", nil))
				}
				resp, _ := t.bulk(0, ops...)
				t.wantSCIMError(resp, fmt.Sprintf("a bulk request of %d operations, maxOperations %d", n+1, n), http.StatusRequestEntityTooLarge)
			},
		},
	}
}

// lastSegment returns the last segment of a URL's path: a location's id.
func lastSegment(location string) string {
	u, err := url.Parse(location)
	if err != nil {
		return ""
	}
	seg := u.Path[strings.LastIndex(u.Path, "/")+1:]
	if s, err := url.PathUnescape(seg); err == nil {
		return s
	}
	return seg
}
