package conformance

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// user is a user the run created.
type user struct {
	ID, UserName string
	Body         map[string]any // as the server answered the create
}

// userBody returns a user as Okta creates one (REAL-CLIENTS.md, Okta 2),
// named userName.
func userBody(userName string) map[string]any {
	return map[string]any{
		"schemas":     []string{userURN},
		"userName":    userName,
		"name":        map[string]any{"givenName": "Conform", "familyName": "Check"},
		"displayName": "Conform Check",
		"emails":      []any{map[string]any{"primary": true, "value": userName, "type": "work"}},
		"active":      true,
	}
}

// createUser creates a user of the run and fails the check unless the
// server answers 201 with an id.
func (t *T) createUser(body map[string]any, header ...string) user {
	resp := t.post("/Users", body, header...)
	t.wantStatus(resp, "create a user", http.StatusCreated)
	m := resp.object(t)
	id, _ := m["id"].(string)
	if id == "" {
		t.Failf("create a user: the 201 answer has no id (RFC 7643 §3.1): %s", resp)
	}
	t.r.track(t.r.base + "/Users/" + url.PathEscape(id))
	return user{ID: id, UserName: str(m, "userName"), Body: m}
}

// newUser creates a user of the run with a fresh name ending in what.
func (t *T) newUser(what string) user {
	return t.createUser(userBody(t.r.name(what) + "@conform.example"))
}

// createGroup creates a group of the run and fails the check unless the
// server answers 201 with an id.
func (t *T) createGroup(body map[string]any) (id string) {
	resp := t.post("/Groups", body)
	t.wantStatus(resp, "create a group", http.StatusCreated)
	m := resp.object(t)
	id, _ = m["id"].(string)
	if id == "" {
		t.Failf("create a group: the 201 answer has no id (RFC 7643 §3.1): %s", resp)
	}
	t.r.track(t.r.base + "/Groups/" + url.PathEscape(id))
	return id
}

// newGroup creates a group of the run with a fresh name and members.
func (t *T) newGroup(what string, members ...string) (id, name string) {
	name = t.r.name(what)
	ms := []any{}
	for _, m := range members {
		ms = append(ms, map[string]any{"value": m})
	}
	return t.createGroup(map[string]any{"schemas": []string{groupURN}, "displayName": name, "members": ms}), name
}

// groupMembers returns the member ids of a group.
func (t *T) groupMembers(id string) []string {
	resp := t.get("/Groups/" + url.PathEscape(id))
	t.wantStatus(resp, "read the group", http.StatusOK)
	var ids []string
	ms, _ := resp.object(t)["members"].([]any)
	for _, m := range ms {
		if o, ok := m.(map[string]any); ok {
			if v, ok := o["value"].(string); ok {
				ids = append(ids, v)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// populationSize is how many users the filter, paging and sort checks
// share: more than twice a page of 5, as Microsoft's validator wants.
const populationSize = 12

// population is the users the filter, paging and sort checks share,
// created once by the first check that needs them: userNames
// PREFIX-pop-u00@conform.example … u11, with even ones active, a work
// email each and a home email for every third, titles and externalIds.
type population struct {
	prefix string // the run's
	marker string // the start of every userName: PREFIX-pop-
	users  []user
}

// popName returns the userName of population member i.
func popName(marker string, i int) string { return fmt.Sprintf("%su%02d@conform.example", marker, i) }

// population returns the shared users, creating them on first use. A
// failure to create them fails the check that asked.
func (t *T) population() *population {
	r := t.r
	r.mu.Lock()
	p, failed := r.fixture, r.fixtureErr
	r.mu.Unlock()
	if p != nil {
		return p
	}
	if failed != "" {
		t.Failf("the %d users the filter, paging and sort checks share could not be created: %s", populationSize, failed)
	}
	p = &population{prefix: r.prefix, marker: r.prefix + "-pop-"}
	defer func() {
		r.mu.Lock()
		if t.status == Fail && r.fixture == nil {
			r.fixtureErr = t.message
		}
		r.mu.Unlock()
	}()
	for i := range populationSize {
		name := popName(p.marker, i)
		body := userBody(name)
		body["active"] = i%2 == 0
		body["title"] = fmt.Sprintf("Title %d", i%3)
		body["externalId"] = fmt.Sprintf("%s-ext-%02d", r.prefix, i)
		body["name"] = map[string]any{"givenName": fmt.Sprintf("Given%02d", i), "familyName": "Pop"}
		emails := []any{map[string]any{"value": fmt.Sprintf("work%02d-%s@conform.example", i, r.prefix), "type": "work", "primary": true}}
		if i%3 == 0 {
			emails = append(emails, map[string]any{"value": fmt.Sprintf("home%02d-%s@conform.example", i, r.prefix), "type": "home"})
		}
		body["emails"] = emails
		if i == 0 {
			delete(body, "title") // pr and not pr have a user without a title
		}
		p.users = append(p.users, t.createUser(body))
	}
	r.mu.Lock()
	r.fixture = p
	r.mu.Unlock()
	return p
}

// names returns the userNames of the population members i for which keep
// is true.
func (p *population) names(keep func(i int) bool) []string {
	var out []string
	for i := range populationSize {
		if keep(i) {
			out = append(out, popName(p.marker, i))
		}
	}
	return out
}

// scoped returns a filter limited to the population: (f) and userName sw
// the marker.
func (p *population) scoped(f string) string {
	return fmt.Sprintf(`userName sw %q and (%s)`, p.marker, f)
}

// userNames returns the lower-cased userNames of resources, sorted.
func userNames(rs []map[string]any) []string {
	var out []string
	for _, r := range rs {
		out = append(out, strings.ToLower(str(r, "userName")))
	}
	slices.Sort(out)
	return out
}
