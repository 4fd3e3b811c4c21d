package conformance

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// filterCase is a filter check: a filter over the population, and which
// members must match it.
type filterCase struct {
	id, title, ref string
	tags           []string
	filter         func(p *population) string
	match          func(i int) bool
}

// filterUsers lists the users matching a filter, scoped to the
// population, and returns their userNames, lower-cased and sorted.
func (t *T) filterUsers(p *population, f string) []string {
	resp := t.get(query("/Users", "filter", p.scoped(f), "startIndex", "1", "count", "100"))
	l := t.wantList(resp, "filter "+f)
	if l.TotalResults != len(l.Resources) {
		t.Failf("filter %s: totalResults %d, but %d Resources in a page of up to 100", f, l.TotalResults, len(l.Resources))
	}
	return userNames(l.Resources)
}

// wantFilter fails the check unless filter f matches exactly the
// population members match selects.
func (t *T) wantFilter(p *population, f string, match func(int) bool) {
	got := t.filterUsers(p, f)
	want := p.names(match)
	if !slices.Equal(got, want) {
		t.expected, t.got = short(p, want), short(p, got)
		t.Failf("filter %s: expected the users %s, got %s", f, t.expected, t.got)
	}
}

// short names population members by their number, for messages: u03 u05.
func short(p *population, names []string) string {
	if len(names) == 0 {
		return "none"
	}
	var out []string
	for _, n := range names {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(n, strings.ToLower(p.marker)), "@conform.example"))
	}
	return strings.Join(out, " ")
}

func filterChecks() []Check {
	ext := func(p *population, i int) string { return fmt.Sprintf("%s-ext-%02d", p.prefix, i) }
	cases := []filterCase{
		{id: "userName_eq", title: "userName eq finds the one user", tags: []string{"okta", "entra"},
			filter: func(p *population) string { return fmt.Sprintf("userName eq %q", popName(p.marker, 5)) },
			match:  func(i int) bool { return i == 5 }},
		{id: "userName_eq_case_insensitive", title: "userName eq finds the user whatever the case (userName is caseExact false)", tags: []string{"okta"},
			ref: "RFC 7643 §4.1.1; RFC 7644 §3.4.2.2; Okta SCIM 2.0 spec test",
			filter: func(p *population) string {
				return fmt.Sprintf("userName eq %q", strings.ToUpper(popName(p.marker, 5)))
			},
			match: func(i int) bool { return i == 5 }},
		{id: "attribute_names_case_insensitive", title: "attribute names in a filter are case-insensitive (USERNAME eq)",
			ref:    "RFC 7643 §2.1; RFC 7644 §3.4.2.2",
			filter: func(p *population) string { return fmt.Sprintf("USERNAME eq %q", popName(p.marker, 6)) },
			match:  func(i int) bool { return i == 6 }},
		{id: "co_case_insensitive", title: "co on userName ignores case (caseExact false)",
			ref:    "RFC 7643 §4.1.1; RFC 7644 §3.4.2.2",
			filter: func(p *population) string { return fmt.Sprintf("userName co %q", strings.ToUpper("pop-u05@")) },
			match:  func(i int) bool { return i == 5 }},
		{id: "externalId_eq", title: "externalId eq finds the one user", tags: []string{"entra"},
			filter: func(p *population) string { return fmt.Sprintf("externalId eq %q", ext(p, 7)) },
			match:  func(i int) bool { return i == 7 }},
		{id: "ne", title: "ne matches every user but the one",
			filter: func(p *population) string { return fmt.Sprintf("externalId ne %q", ext(p, 5)) },
			match:  func(i int) bool { return i != 5 }},
		{id: "co", title: "co matches a substring",
			filter: func(p *population) string { return fmt.Sprintf("externalId co %q", "-ext-0") },
			match:  func(i int) bool { return i < 10 }},
		{id: "sw", title: "sw matches a prefix",
			filter: func(p *population) string { return `name.givenName sw "Given1"` },
			match:  func(i int) bool { return i >= 10 }},
		{id: "ew", title: "ew matches a suffix",
			filter: func(p *population) string { return `externalId ew "-ext-07"` },
			match:  func(i int) bool { return i == 7 }},
		{id: "pr", title: "pr matches the users that have the attribute",
			filter: func(p *population) string { return "title pr" },
			match:  func(i int) bool { return i != 0 }},
		{id: "gt", title: "gt compares strings lexicographically",
			filter: func(p *population) string { return fmt.Sprintf("userName gt %q", popName(p.marker, 8)) },
			match:  func(i int) bool { return i > 8 }},
		{id: "ge", title: "ge compares strings lexicographically",
			filter: func(p *population) string { return fmt.Sprintf("userName ge %q", popName(p.marker, 8)) },
			match:  func(i int) bool { return i >= 8 }},
		{id: "lt", title: "lt compares strings lexicographically",
			filter: func(p *population) string { return fmt.Sprintf("userName lt %q", popName(p.marker, 3)) },
			match:  func(i int) bool { return i < 3 }},
		{id: "le", title: "le compares strings lexicographically",
			filter: func(p *population) string { return fmt.Sprintf("userName le %q", popName(p.marker, 3)) },
			match:  func(i int) bool { return i <= 3 }},
		{id: "dateTime_gt", title: "gt compares dateTimes (meta.lastModified)",
			filter: func(p *population) string { return `meta.lastModified gt "2000-01-01T00:00:00Z"` },
			match:  func(i int) bool { return true }},
		{id: "boolean_eq", title: "eq compares booleans (active eq false)",
			filter: func(p *population) string { return "active eq false" },
			match:  func(i int) bool { return i%2 == 1 }},
		{id: "and", title: "and matches what both sides match", tags: []string{"entra"},
			filter: func(p *population) string { return `active eq true and title eq "Title 0"` },
			match:  func(i int) bool { return i == 6 }},
		{id: "or", title: "or matches what either side matches",
			filter: func(p *population) string {
				return fmt.Sprintf("externalId eq %q or externalId eq %q", ext(p, 1), ext(p, 2))
			},
			match: func(i int) bool { return i == 1 || i == 2 }},
		{id: "not", title: "not negates a parenthesised filter",
			filter: func(p *population) string { return "not (active eq true)" },
			match:  func(i int) bool { return i%2 == 1 }},
		{id: "and_binds_tighter_than_or", title: "and binds tighter than or",
			filter: func(p *population) string {
				return fmt.Sprintf("externalId eq %q or externalId eq %q and active eq true", ext(p, 1), ext(p, 3))
			},
			match: func(i int) bool { return i == 1 }},
		{id: "parentheses", title: "parentheses group: an or in parentheses binds before the and beside it",
			// Without its parentheses the filter is a different one
			// (ext1 or (ext2 and active)), which matches u01 and u02.
			filter: func(p *population) string {
				return fmt.Sprintf("(externalId eq %q or externalId eq %q) and active eq true", ext(p, 1), ext(p, 2))
			},
			match: func(i int) bool { return i == 2 }},
		{id: "sub_attribute", title: "a sub-attribute path (emails.value) matches any value of a multi-valued attribute",
			filter: func(p *population) string {
				return fmt.Sprintf("emails.value eq %q", "home03-"+p.prefix+"@conform.example")
			},
			match: func(i int) bool { return i == 3 }},
		{id: "value_path", title: `a value path (emails[type eq "home"]) matches users with such a value`,
			filter: func(p *population) string { return `emails[type eq "home"]` },
			match:  func(i int) bool { return i%3 == 0 }},
		{id: "value_path_and", title: "a value path's filter holds for one and the same value",
			filter: func(p *population) string { return `emails[type eq "work" and value co "work05"]` },
			match:  func(i int) bool { return i == 5 }},
		{id: "value_path_sub_attribute", title: `Entra's lookup emails[type eq "work"].value eq "…" finds the user`, tags: []string{"entra"},
			ref: "REAL-CLIENTS.md (Entra 1)",
			filter: func(p *population) string {
				return fmt.Sprintf(`emails[type eq "work"].value eq %q`, "work04-"+p.prefix+"@conform.example")
			},
			match: func(i int) bool { return i == 4 }},
	}
	var checks []Check
	for _, c := range cases {
		ref := c.ref
		if ref == "" {
			ref = "RFC 7644 §3.4.2.2"
		}
		checks = append(checks, Check{
			ID: "filter." + c.id, Tags: append([]string{"filter"}, c.tags...), Ref: ref, Writes: true,
			Needs: []Feature{FeatureFilter}, Title: c.title,
			Run: func(t *T) {
				p := t.population()
				t.wantFilter(p, c.filter(p), c.match)
			},
		})
	}
	invalid := func(id, title, f string) Check {
		return Check{
			ID: "filter." + id, Tags: []string{"filter", "errors"}, Ref: "RFC 7644 §3.4.2.2, §3.12 (invalidFilter)",
			Needs: []Feature{FeatureFilter}, Title: title,
			Run: func(t *T) {
				resp := t.get(query("/Users", "filter", f))
				t.wantSCIMError(resp, "filter "+f, http.StatusBadRequest, "invalidFilter")
			},
		}
	}
	return append(checks,
		Check{
			ID: "filter.no_match_empty_list", Tags: []string{"filter", "okta", "entra"}, Ref: "RFC 7644 §3.4.2; REAL-CLIENTS.md (Okta 1, Entra 1, 7)",
			Needs: []Feature{FeatureFilter}, Title: "a filter that matches nothing answers 200 with totalResults 0, not 404",
			Run: func(t *T) {
				f := fmt.Sprintf("userName eq %q", t.r.prefix+"-nobody@conform.example")
				l := t.wantList(t.get(query("/Users", "filter", f, "startIndex", "1", "count", "100")), "filter "+f)
				t.Expect("totalResults", 0, l.TotalResults)
			},
		},
		Check{
			ID: "filter.post_search", Tags: []string{"filter"}, Ref: "RFC 7644 §3.4.3", Writes: true, Needs: []Feature{FeatureFilter},
			Title: "POST /Users/.search with a SearchRequest finds what the same GET filter finds (warns when .search is not there)",
			Run: func(t *T) {
				p := t.population()
				f := p.scoped(`externalId ew "-ext-07"`)
				resp := t.post("/Users/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
					"filter": f, "startIndex": 1, "count": 10})
				switch resp.Status {
				case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
					t.Warnf("POST /Users/.search answered %d: clients that search by POST cannot", resp.Status)
					return
				}
				l := t.wantList(resp, "POST /Users/.search")
				t.Expect("the users .search found", popName(p.marker, 7), strings.Join(userNames(l.Resources), " "))
			},
		},
		invalid("invalid_400", "a filter missing its value gets 400 invalidFilter", `userName eq`),
		invalid("unknown_operator_400", "a filter with an unknown operator gets 400 invalidFilter", `userName zz "x"`),
		invalid("unbalanced_400", "a filter with an unclosed parenthesis gets 400 invalidFilter", `(userName eq "x"`),
	)
}

func pagingChecks() []Check {
	page := func(t *T, p *population, startIndex, count int) list {
		path := query("/Users", "filter", p.scoped("userName pr"), "startIndex", strconv.Itoa(startIndex), "count", strconv.Itoa(count))
		return t.wantList(t.get(path), fmt.Sprintf("list startIndex=%d count=%d", startIndex, count))
	}
	return []Check{
		{
			ID: "paging.count_and_startIndex", Tags: []string{"paging", "entra"}, Ref: "RFC 7644 §3.4.2.4; Microsoft SCIM validator (count=5 over ≥ 11 users)",
			Writes: true, Needs: []Feature{FeatureFilter},
			Title: "count=5 pages through 12 users in pages of 5, 5 and 2, each with totalResults 12, itemsPerPage and startIndex, every user once",
			Run: func(t *T) {
				p := t.population()
				seen := map[string]bool{}
				for _, want := range []struct{ start, n int }{{1, 5}, {6, 5}, {11, 2}} {
					l := page(t, p, want.start, 5)
					t.Expect(fmt.Sprintf("totalResults of the page at %d", want.start), populationSize, l.TotalResults)
					t.Expect(fmt.Sprintf("the resources in the page at %d (count=5)", want.start), want.n, len(l.Resources))
					if !l.hasItemsPerPage || !l.hasStartIndex {
						t.Failf("the page at %d lacks itemsPerPage or startIndex, REQUIRED in a partial result (RFC 7644 §3.4.2)", want.start)
					}
					t.Expect(fmt.Sprintf("itemsPerPage of the page at %d", want.start), want.n, l.ItemsPerPage)
					t.Expect("the startIndex the page echoes", want.start, l.StartIndex)
					for _, n := range userNames(l.Resources) {
						if seen[n] {
							t.Failf("%s came on two pages: the order is not stable across pages", n)
						}
						seen[n] = true
					}
				}
				t.Expect("the users on the three pages", populationSize, len(seen))
			},
		},
		{
			ID: "paging.count_above_maxResults", Tags: []string{"paging"}, Ref: "RFC 7644 §3.4.2.4; RFC 7643 §5 (filter.maxResults)", Needs: []Feature{FeatureFilter},
			Title: "a count above filter.maxResults is capped, not refused",
			Run: func(t *T) {
				n := max(t.r.spc.Filter.MaxResults, 1000) + 1
				f := fmt.Sprintf("userName eq %q", t.r.prefix+"-nobody@conform.example")
				resp := t.get(query("/Users", "filter", f, "count", strconv.Itoa(n)))
				if resp.Status == http.StatusBadRequest {
					t.Warnf("count=%d answered 400, where RFC 7644 §3.4.2.4 lets the server return fewer: %s", n, resp)
					return
				}
				t.wantList(resp, fmt.Sprintf("list count=%d", n))
			},
		},
		{
			ID: "paging.count_negative", Tags: []string{"paging"}, Ref: "RFC 7644 §3.4.2.4 (a negative count SHALL be taken as 0)",
			Title: "count=-1 is taken as 0: totalResults and no resources",
			Run: func(t *T) {
				resp := t.get(query("/Users", "count", "-1"))
				if resp.Status == http.StatusBadRequest {
					t.Failf("count=-1 got 400, where RFC 7644 §3.4.2.4 says it SHALL be interpreted as 0: %s", resp)
				}
				l := t.wantList(resp, "list count=-1")
				t.Expect("resources with count=-1", 0, len(l.Resources))
			},
		},
		{
			ID: "paging.count_zero", Tags: []string{"paging"}, Ref: "RFC 7644 §3.4.2.4", Writes: true, Needs: []Feature{FeatureFilter},
			Title: "count=0 answers totalResults and no resources",
			Run: func(t *T) {
				l := page(t, t.population(), 1, 0)
				t.Expect("totalResults", populationSize, l.TotalResults)
				t.Expect("resources with count=0", 0, len(l.Resources))
			},
		},
		{
			ID: "paging.startIndex_past_the_end", Tags: []string{"paging"}, Ref: "RFC 7644 §3.4.2.4", Writes: true, Needs: []Feature{FeatureFilter},
			Title: "a startIndex past the last user answers 200 with no resources and the totalResults",
			Run: func(t *T) {
				l := page(t, t.population(), 100, 5)
				t.Expect("totalResults", populationSize, l.TotalResults)
				t.Expect("resources past the end", 0, len(l.Resources))
			},
		},
		{
			ID: "paging.startIndex_below_one", Tags: []string{"paging"}, Ref: "RFC 7644 §3.4.2.4 (a startIndex below 1 SHALL be taken as 1)",
			Writes: true, Needs: []Feature{FeatureFilter},
			Title: "startIndex=0 is taken as 1",
			Run: func(t *T) {
				p := t.population()
				resp := t.get(query("/Users", "filter", p.scoped("userName pr"), "startIndex", "0", "count", "5"))
				if resp.Status == http.StatusBadRequest {
					t.Failf("startIndex=0 got 400, where RFC 7644 §3.4.2.4 says it SHALL be interpreted as 1: %s", resp)
				}
				l := t.wantList(resp, "list startIndex=0 count=5")
				t.Expect("resources with startIndex=0 count=5", 5, len(l.Resources))
				first := page(t, p, 1, 5)
				t.Expect("the users at startIndex=0", strings.Join(userNames(first.Resources), " "), strings.Join(userNames(l.Resources), " "))
			},
		},
	}
}

func cursorChecks() []Check {
	return []Check{
		{
			ID: "cursor.walk", Tags: []string{"cursor", "paging"}, Ref: "RFC 9865 §2", Writes: true, Needs: []Feature{FeatureCursor, FeatureFilter},
			Title: "cursor= then nextCursor pages through 12 users with count=5, each once, the last page without nextCursor",
			Run: func(t *T) {
				p := t.population()
				seen := map[string]bool{}
				cursor := ""
				for pages := 1; ; pages++ {
					if pages > 10 {
						t.Failf("more than 10 pages of 5 for 12 users: nextCursor never ends")
					}
					l := t.wantList(t.get(query("/Users", "filter", p.scoped("userName pr"), "cursor", cursor, "count", "5")), "list by cursor")
					if len(l.Resources) > 5 {
						t.Failf("a page of %d resources for count=5", len(l.Resources))
					}
					for _, n := range userNames(l.Resources) {
						if seen[n] {
							t.Failf("%s came on two pages", n)
						}
						seen[n] = true
					}
					if l.NextCursor == "" {
						break
					}
					cursor = l.NextCursor
				}
				t.Expect("the users the cursor walk returned", populationSize, len(seen))
			},
		},
		{
			ID: "cursor.invalid_400", Tags: []string{"cursor", "errors"}, Ref: "RFC 9865 §2.3 (invalidCursor)", Needs: []Feature{FeatureCursor},
			Title: "a cursor the server never gave gets 400 invalidCursor",
			Run: func(t *T) {
				resp := t.get(query("/Users", "cursor", "conform-not-a-cursor", "count", "5"))
				t.wantSCIMError(resp, "list with a made-up cursor", http.StatusBadRequest, "invalidCursor")
			},
		},
	}
}

func sortChecks() []Check {
	sorted := func(order string, desc bool) Check {
		return Check{
			ID: "sort.userName_" + order, Tags: []string{"sort"}, Ref: "RFC 7644 §3.4.2.3", Writes: true, Needs: []Feature{FeatureSort, FeatureFilter},
			Title: "sortBy=userName&sortOrder=" + order + " orders the users by userName",
			Run: func(t *T) {
				p := t.population()
				l := t.wantList(t.get(query("/Users", "filter", p.scoped("userName pr"), "sortBy", "userName", "sortOrder", order, "count", "100")), "sorted list")
				var got []string
				for _, r := range l.Resources {
					got = append(got, strings.ToLower(str(r, "userName")))
				}
				want := p.names(func(int) bool { return true })
				if desc {
					slices.Reverse(want)
				}
				if !slices.Equal(got, want) {
					t.expected, t.got = short(p, want), short(p, got)
					t.Failf("sortBy=userName sortOrder=%s: expected %s, got %s", order, t.expected, t.got)
				}
			},
		}
	}
	return []Check{sorted("ascending", false), sorted("descending", true)}
}

func projectionChecks() []Check {
	return []Check{
		{
			ID: "projection.attributes", Tags: []string{"projection"}, Ref: "RFC 7644 §3.4.2.5, §3.9", Writes: true, Needs: []Feature{FeatureFilter},
			Title: "attributes=userName answers id and userName, not emails or name",
			Run: func(t *T) {
				p := t.population()
				l := t.wantList(t.get(query("/Users", "filter", p.scoped("userName pr"), "attributes", "userName", "count", "3")), "list attributes=userName")
				if len(l.Resources) == 0 {
					t.Failf("no users listed")
				}
				for _, r := range l.Resources {
					if str(r, "id") == "" || str(r, "userName") == "" {
						t.Failf("attributes=userName lost id or userName: %v", r)
					}
					for _, a := range []string{"emails", "name", "displayName", "title"} {
						if _, ok := getFold(r, a); ok {
							t.expected, t.got = "id, userName (schemas and meta may come too)", strings.Join(keys(r), ", ")
							t.Failf("attributes=userName still returned %s: the resource had %s", a, t.got)
						}
					}
				}
			},
		},
		{
			ID: "projection.excludedAttributes", Tags: []string{"projection"}, Ref: "RFC 7644 §3.4.2.5, §3.9", Writes: true, Needs: []Feature{FeatureFilter},
			Title: "excludedAttributes=emails leaves out emails, and only them",
			Run: func(t *T) {
				p := t.population()
				l := t.wantList(t.get(query("/Users", "filter", p.scoped("userName pr"), "excludedAttributes", "emails", "count", "3")), "list excludedAttributes=emails")
				if len(l.Resources) == 0 {
					t.Failf("no users listed")
				}
				for _, r := range l.Resources {
					if _, ok := getFold(r, "emails"); ok {
						t.expected, t.got = "every attribute but emails", strings.Join(keys(r), ", ")
						t.Failf("excludedAttributes=emails still returned emails: the resource had %s", t.got)
					}
					if str(r, "id") == "" || str(r, "userName") == "" || str(r, "name.familyName") == "" {
						t.Failf("excludedAttributes=emails lost other attributes: %v", r)
					}
				}
			},
		},
		{
			ID: "projection.get_sub_attribute", Tags: []string{"projection"}, Ref: "RFC 7644 §3.9", Writes: true,
			Title: "GET /Users/{id}?attributes=name.givenName answers name.givenName, not name.familyName",
			Run: func(t *T) {
				u := t.newUser("proj")
				resp := t.get("/Users/" + url.PathEscape(u.ID) + "?attributes=name.givenName")
				t.wantStatus(resp, "read the user with attributes=name.givenName", http.StatusOK)
				m := resp.object(t)
				t.Expect("id", u.ID, str(m, "id"))
				t.Expect("name.givenName", "Conform", str(m, "name.givenName"))
				if lookup(m, "name.familyName") != nil || lookup(m, "emails") != nil {
					t.Failf("attributes=name.givenName still returned name.familyName or emails: %s", resp)
				}
			},
		},
	}
}

// keys returns an object's attribute names, sorted.
func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
