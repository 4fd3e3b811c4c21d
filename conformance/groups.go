package conformance

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/retryafter"
)

// patchGroup sends a PATCH of a group and fails the check unless it
// answers 200 or 204.
func (t *T) patchGroup(id, what string, ops ...any) {
	resp := t.patch("/Groups/"+url.PathEscape(id), ops...)
	t.wantStatus(resp, what, http.StatusOK, http.StatusNoContent)
}

// wantMembers fails the check unless the group's members are exactly ids.
func (t *T) wantMembers(groupID, what string, ids ...string) {
	want := slices.Clone(ids)
	slices.Sort(want)
	got := t.groupMembers(groupID)
	if !slices.Equal(got, want) {
		t.expected, t.got = fmt.Sprint(want), fmt.Sprint(got)
		t.Failf("%s: expected the members %v, got %v", what, want, got)
	}
}

func members(ids ...string) []any {
	var out []any
	for _, id := range ids {
		out = append(out, map[string]any{"value": id})
	}
	return out
}

func groupChecks() []Check {
	check := func(id, title, ref string, tags []string, run func(t *T)) Check {
		if ref == "" {
			ref = "RFC 7644 §3.5.2; RFC 7643 §4.2"
		}
		return Check{ID: id, Tags: append([]string{"groups"}, tags...), Ref: ref, Title: title, Writes: true,
			Needs: []Feature{FeatureGroups}, Run: run}
	}
	patched := func(c Check) Check { c.Needs = append(c.Needs, FeaturePatch); return c }
	return []Check{
		check("groups.create", `POST /Groups {"displayName":…, "members":[]} answers 201 with the group`, "RFC 7644 §3.3; REAL-CLIENTS.md (Okta 6)",
			[]string{"okta", "entra"}, func(t *T) {
				name := t.r.name("group")
				resp := t.post("/Groups", map[string]any{"schemas": []string{groupURN}, "displayName": name, "members": []any{}})
				t.trackIfCreated(resp)
				t.wantStatus(resp, "create a group", http.StatusCreated)
				m := resp.object(t)
				if str(m, "id") == "" {
					t.Failf("the 201 has no id: %s", resp)
				}
				t.Expect("displayName", name, str(m, "displayName"))
			}),
		check("groups.duplicate_displayName_409", "a second group with an existing displayName gets 409 (Entra expects group names unique)",
			"REAL-CLIENTS.md (Entra 6); RFC 7644 §3.3", []string{"entra"}, func(t *T) {
				_, name := t.newGroup("gdup")
				resp := t.post("/Groups", map[string]any{"schemas": []string{groupURN}, "displayName": name})
				t.trackIfCreated(resp)
				t.wantSCIMError(resp, "create a second group named "+name, http.StatusConflict, "uniqueness")
			}),
		check("groups.filter_by_member", `GET /Groups?filter=members.value eq "ID" finds the groups of a user`, "RFC 7644 §3.4.2.2", nil, func(t *T) {
			if !t.r.features[FeatureFilter] {
				t.Skipf("%s", notAdvertised(FeatureFilter))
			}
			u, other := t.newUser("gfm"), t.newUser("gfo")
			id, _ := t.newGroup("gfmember", u.ID)
			t.newGroup("gfother", other.ID)
			l := t.wantList(t.get(query("/Groups", "filter", fmt.Sprintf("members.value eq %q", u.ID), "excludedAttributes", "members")), "find the user's groups")
			if len(l.Resources) != 1 || str(l.Resources[0], "id") != id {
				t.Failf("members.value eq the user found %d groups, expected its one", len(l.Resources))
			}
		}),
		check("groups.filter_users_by_group", `GET /Users?filter=groups.value eq "GID" finds the group's members`, "RFC 7644 §3.4.2.2; RFC 7643 §4.1.2", nil, func(t *T) {
			if !t.r.features[FeatureFilter] {
				t.Skipf("%s", notAdvertised(FeatureFilter))
			}
			u, other := t.newUser("gfu"), t.newUser("gfn")
			id, _ := t.newGroup("gfusers", u.ID)
			l := t.wantList(t.get(query("/Users", "filter", fmt.Sprintf("groups.value eq %q", id))), "find the group's users")
			if len(l.Resources) != 1 || str(l.Resources[0], "id") != u.ID {
				t.Failf("groups.value eq the group found %d users, expected its member (not %s)", len(l.Resources), other.ID)
			}
		}),
		check("groups.members_in_post", "members sent in a POST are stored", "RFC 7643 §4.2; REAL-CLIENTS.md (bugs)", nil, func(t *T) {
			a, b := t.newUser("gpa"), t.newUser("gpb")
			id, _ := t.newGroup("gpost", a.ID, b.ID)
			t.wantMembers(id, "the group created with two members", a.ID, b.ID)
		}),
		check("groups.display_name_filter", `displayName eq finds the group, as Entra looks groups up (with excludedAttributes=members)`,
			"RFC 7644 §3.4.2.2; REAL-CLIENTS.md (Entra 1)", []string{"entra"}, func(t *T) {
				if !t.r.features[FeatureFilter] {
					t.Skipf("%s", notAdvertised(FeatureFilter))
				}
				id, name := t.newGroup("gfind")
				l := t.wantList(t.get(query("/Groups", "filter", fmt.Sprintf("displayName eq %q", name), "excludedAttributes", "members")), "find the group by displayName")
				if len(l.Resources) != 1 || str(l.Resources[0], "id") != id {
					t.Failf("displayName eq %q found %d groups, expected the one", name, len(l.Resources))
				}
			}),
		check("groups.excluded_members", "GET /Groups/{id}?excludedAttributes=members answers the group without members",
			"RFC 7644 §3.4.2.5; REAL-CLIENTS.md (Entra 1, bugs)", []string{"entra"}, func(t *T) {
				u := t.newUser("gex")
				id, name := t.newGroup("gexcl", u.ID)
				resp := t.get("/Groups/" + url.PathEscape(id) + "?excludedAttributes=members")
				t.wantStatus(resp, "read the group without members", http.StatusOK)
				m := resp.object(t)
				if v, ok := getFold(m, "members"); ok {
					arr, _ := v.([]any)
					t.expected, t.got = "no members", fmt.Sprintf("%d members", len(arr))
					t.Failf("excludedAttributes=members still returned the group's %d members", len(arr))
				}
				t.Expect("displayName", name, str(m, "displayName"))
			}),
		patched(check("groups.add_member", `PATCH {"op":"add","path":"members","value":[…]} adds the member`, "", []string{"okta", "entra"}, func(t *T) {
			a, b := t.newUser("gaa"), t.newUser("gab")
			id, _ := t.newGroup("gadd", a.ID)
			t.patchGroup(id, "add a member", op("add", "members", []any{map[string]any{"value": b.ID, "display": b.UserName}}))
			t.wantMembers(id, "after adding one member to one", a.ID, b.ID)
		})),
		patched(check("groups.add_member_twice", "adding a member twice keeps one", "RFC 7644 §3.5.2.1; REAL-CLIENTS.md (bugs)", nil, func(t *T) {
			a := t.newUser("gtw")
			id, _ := t.newGroup("gtwice", a.ID)
			t.patchGroup(id, "add the member again", op("add", "members", members(a.ID)))
			t.wantMembers(id, "after adding a member again", a.ID)
		})),
		patched(check("groups.remove_member_value_path", `PATCH {"op":"remove","path":"members[value eq \"ID\"]"} removes that member only`,
			"RFC 7644 §3.5.2.2; REAL-CLIENTS.md (Okta 6, Entra 4)", []string{"okta", "entra"}, func(t *T) {
				a, b := t.newUser("grva"), t.newUser("grvb")
				id, _ := t.newGroup("grmvp", a.ID, b.ID)
				t.patchGroup(id, "remove a member", op("remove", fmt.Sprintf("members[value eq %q]", a.ID), nil))
				t.wantMembers(id, "after removing one of two", b.ID)
			})),
		patched(check("groups.remove_member_value", `PATCH {"op":"Remove","path":"members","value":[{"value":"ID"}]} (Entra) removes that member only`,
			"REAL-CLIENTS.md (Entra 4)", []string{"entra"}, func(t *T) {
				a, b, c := t.newUser("grma"), t.newUser("grmb"), t.newUser("grmc")
				id, _ := t.newGroup("grmval", a.ID, b.ID, c.ID)
				t.patchGroup(id, "remove two members", op("Remove", "members", members(a.ID, b.ID)))
				t.wantMembers(id, "after removing two of three", c.ID)
			})),
		patched(check("groups.replace_members", "replace of members sets the complete list", "RFC 7644 §3.5.2.3; REAL-CLIENTS.md (Okta 6)", []string{"okta"}, func(t *T) {
			a, b, c := t.newUser("grpa"), t.newUser("grpb"), t.newUser("grpc")
			id, _ := t.newGroup("grepl", a.ID, b.ID)
			t.patchGroup(id, "replace the members", op("replace", "members", members(b.ID, c.ID)))
			t.wantMembers(id, "after replacing the members", b.ID, c.ID)
		})),
		patched(check("groups.rename_without_path", `Okta's rename {"op":"replace","value":{"id":…,"displayName":…}} renames the group`,
			"REAL-CLIENTS.md (Okta 6)", []string{"okta"}, func(t *T) {
				id, _ := t.newGroup("gren")
				name := t.r.name("renamed")
				t.patchGroup(id, "rename the group", op("replace", "", map[string]any{"id": id, "displayName": name}))
				resp := t.get("/Groups/" + url.PathEscape(id))
				t.wantStatus(resp, "read the group", http.StatusOK)
				t.Expect("displayName after the rename", name, str(resp.object(t), "displayName"))
			})),
		check("groups.delete", "DELETE /Groups/{id} answers 204 and the group is gone", "RFC 7644 §3.6; REAL-CLIENTS.md (Okta 6)", []string{"okta"}, func(t *T) {
			id, _ := t.newGroup("gdel")
			t.wantStatus(t.del("/Groups/"+url.PathEscape(id)), "delete the group", http.StatusNoContent)
			t.wantStatus(t.get("/Groups/"+url.PathEscape(id)), "read the deleted group", http.StatusNotFound)
		}),
		check("groups.user_groups", "a member's groups attribute lists the group (warns otherwise)", "RFC 7643 §4.1.2", nil, func(t *T) {
			u := t.newUser("ugroups")
			id, _ := t.newGroup("ugrp", u.ID)
			v, _ := getFold(t.readUser(u.ID), "groups")
			gs, _ := v.([]any)
			for _, g := range gs {
				if o, ok := g.(map[string]any); ok && o["value"] == id {
					return
				}
			}
			t.Warnf("the user's groups attribute %v does not list the group %s", v, id)
		}),
	}
}

func concurrencyChecks() []Check {
	return []Check{
		{
			ID: "concurrency.member_adds", Tags: []string{"concurrency", "groups"}, Ref: "RFC 7644 §3.5.2; REAL-CLIENTS.md (bugs)", Writes: true,
			Needs: []Feature{FeatureGroups, FeaturePatch},
			Title: "members added to one group by concurrent PATCHes all land",
			Run: func(t *T) {
				n := t.r.cfg.Concurrency
				users := make([]string, n)
				for i := range n {
					users[i] = t.newUser("conc" + strconv.Itoa(i)).ID
				}
				id, _ := t.newGroup("gconc")
				errs := make([]error, n)
				statuses := make([]int, n)
				var wg sync.WaitGroup
				start := time.Now()
				for i := range n {
					wg.Go(func() {
						resp, err := t.r.send(t.ctx, req{method: http.MethodPatch, path: "/Groups/" + url.PathEscape(id),
							body: patchBody(op("add", "members", members(users[i])))})
						if err != nil {
							errs[i] = err
							return
						}
						statuses[i] = resp.Status
					})
				}
				wg.Wait()
				for i := range n {
					if errs[i] != nil {
						t.Failf("a concurrent PATCH got no answer: %v", errs[i])
					}
					if statuses[i] != http.StatusOK && statuses[i] != http.StatusNoContent {
						t.Failf("a concurrent PATCH answered %d", statuses[i])
					}
				}
				t.Notef("%d concurrent adds in %v", n, time.Since(start).Round(time.Millisecond))
				t.wantMembers(id, fmt.Sprintf("after %d concurrent adds", n), users...)
			},
		},
		{
			ID: "concurrency.creates_unique", Tags: []string{"concurrency", "users"}, Ref: "RFC 7644 §3.3 (uniqueness)", Writes: true,
			Title: "concurrent creates of one userName make one user: one 201, the others 409",
			Run: func(t *T) {
				n := t.r.cfg.Concurrency
				name := t.r.name("race") + "@conform.example"
				results := make([]*Response, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						results[i], errs[i] = t.r.send(t.ctx, req{method: http.MethodPost, path: "/Users", body: userBody(name)})
					})
				}
				wg.Wait()
				// Everything created is tracked before anything is judged:
				// a failure ends the check, and what it had not tracked
				// yet would be left on the server.
				for i := range n {
					if errs[i] == nil {
						t.trackIfCreated(results[i])
					}
				}
				created, conflicts := 0, 0
				for i := range n {
					if errs[i] != nil {
						t.Failf("a concurrent create got no answer: %v", errs[i])
					}
					switch results[i].Status {
					case http.StatusCreated:
						created++
					case http.StatusConflict:
						conflicts++
					default:
						t.Failf("a concurrent create answered %s", results[i])
					}
				}
				t.Expect(fmt.Sprintf("201 answers to %d concurrent creates of one userName", n), 1, created)
			},
		},
	}
}

func largeGroupChecks() []Check {
	return []Check{{
		ID: "large-group.members", Tags: []string{"large-group", "groups"}, Ref: "REAL-CLIENTS.md (bugs: 50,000-member groups timed out)", Writes: true,
		Needs: []Feature{FeatureGroups, FeaturePatch},
		Title: "a group of --large N members takes them in PATCHes of 100, reads back whole, and answers excludedAttributes=members fast",
		Run: func(t *T) {
			n := t.r.cfg.Large
			if n == 0 {
				t.Skipf("opt-in: give the member count (Config.Large, --large N)")
			}
			start := time.Now()
			ids := make([]string, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			sem := make(chan struct{}, t.r.cfg.Concurrency)
			for i := range n {
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					resp, err := t.r.send(t.ctx, req{method: http.MethodPost, path: "/Users", body: userBody(fmt.Sprintf("%s-large-%06d@conform.example", t.r.prefix, i))})
					switch {
					case err != nil:
						errs[i] = err
					case resp.Status != http.StatusCreated:
						errs[i] = fmt.Errorf("create a member answered %s", resp)
					default:
						t.trackIfCreated(resp)
						ids[i] = str(resp.objectOrNil(), "id")
					}
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Failf("%v", err)
				}
			}
			created := time.Since(start)
			id, _ := t.newGroup("glarge")
			start = time.Now()
			for i := 0; i < n; i += 100 {
				t.patchGroup(id, fmt.Sprintf("add members %d–%d", i+1, min(i+100, n)), op("add", "members", members(ids[i:min(i+100, n)]...)))
			}
			added := time.Since(start)
			resp := t.get("/Groups/" + url.PathEscape(id) + "?excludedAttributes=members")
			t.wantStatus(resp, "read the large group without members", http.StatusOK)
			lean := resp.Duration
			start = time.Now()
			got := t.groupMembers(id)
			whole := time.Since(start)
			t.Expect("members of the large group", n, len(got))
			t.Notef("%d users created in %v, added in %v, group read in %v with members, %v without",
				n, created.Round(time.Millisecond), added.Round(time.Millisecond), whole.Round(time.Millisecond), lean.Round(10*time.Microsecond))
			if lean > 600*time.Millisecond {
				t.Warnf("reading the group without members took %v, over the 600 ms Okta's checker allows", lean.Round(time.Millisecond))
			}
		},
	}}
}

// rateLimitCheckID is the check whose result the run decides at the end,
// from the 429 answers it saw.
const rateLimitCheckID = "rate-limit.retry_after"

// limitedAnswer is a 429 the run was answered.
type limitedAnswer struct {
	method, path, retryAfter string
}

func rateLimitChecks() []Check {
	return []Check{{
		ID: rateLimitCheckID, Tags: []string{"rate-limit"}, Ref: "RFC 6585 §4; RFC 9110 §10.2.3; REAL-CLIENTS.md (Entra 9)",
		Title: "a 429 the run met carried Retry-After (judged from the whole run; the checker does not hammer to provoke one)",
		Run:   func(t *T) {}, // decided by rateLimitResult
	}}
}

// rateLimitResult decides the rate-limit check from the 429 answers the
// run met.
func (r *runner) rateLimitResult(res Result) Result {
	if res.Status == Skip {
		return res
	}
	r.mu.Lock()
	limited := slices.Clone(r.limited)
	r.mu.Unlock()
	if len(limited) == 0 {
		res.Status, res.Message = Skip, "no 429 was met: the checker does not hammer the server to provoke one"
		return res
	}
	for _, l := range limited {
		if _, ok := retryafter.Parse(l.retryAfter, time.Now(), maxRetryAfter); !ok {
			res.Status = Warn
			res.Message = fmt.Sprintf("%s %s answered 429 with Retry-After %q, not seconds or an HTTP date: clients cannot tell when to retry", l.method, l.path, l.retryAfter)
			res.Expected, res.Got = "Retry-After: seconds", fmt.Sprintf("%q", l.retryAfter)
			return res
		}
	}
	res.Status, res.Message = Pass, fmt.Sprintf("%d answers of 429, each with Retry-After (waited out)", len(limited))
	return res
}
