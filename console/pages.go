package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/server"
	"github.com/rosterhq/roster/store"
)

// pageSize is the rows of a paged list.
const pageSize = 50

// scimBase is the SCIM API's URL as clients should be given it.
func (c *console) scimBase(r *http.Request) string {
	if c.SCIMBaseURL != "" {
		return c.SCIMBaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + server.BasePath
}

// count returns how many resources of a type a filter selects ("" all).
func (c *console) count(r *http.Request, dir, typ, f string) (int, error) {
	rt := c.Registry.ResourceType(typ)
	q := store.Query{Type: rt, Count: 0, Budget: c.budget()}
	if f != "" {
		expr, err := filter.Parse(f, rt)
		if err != nil {
			return 0, fmt.Errorf("console: filter %q: %w", f, err)
		}
		q.Filter = expr
	}
	page, err := c.Store.List(r.Context(), dir, q)
	return page.Total, err
}

// budget is the store.Query.Budget of the console's lists and counts.
func (c *console) budget() time.Duration { return max(c.QueryBudget, 0) }

// unknown is a count the console gave up on (store.ErrOverBudget).
const unknown = -1

// countOrUnknown is count, or unknown where counting would take longer
// than the query budget.
func (c *console) countOrUnknown(r *http.Request, dir, typ, f string) (int, error) {
	n, err := c.count(r, dir, typ, f)
	if errors.Is(err, store.ErrOverBudget) {
		return unknown, nil
	}
	return n, err
}

type directoryRow struct {
	store.Directory
	// Users, Groups and Active are counts, or unknown.
	Users, Groups, Active int
	LastRequest           time.Time
	// Webhooks receive the directory's events; Failing of them are not
	// healthy (see webhookRow.Healthy).
	Webhooks, Failing int
}

// directoryRow reads a directory's counts; hooks are the webhooks with
// their health (any superset of the directory's: it keeps its own).
func (c *console) directoryRow(r *http.Request, d store.Directory, hooks []webhookRow) (directoryRow, error) {
	row := directoryRow{Directory: d}
	var err error
	if row.Users, err = c.countOrUnknown(r, d.ID, "User", ""); err != nil {
		return row, err
	}
	if row.Active, err = c.countOrUnknown(r, d.ID, "User", "active eq true"); err != nil {
		return row, err
	}
	if row.Groups, err = c.countOrUnknown(r, d.ID, "Group", ""); err != nil {
		return row, err
	}
	if row.LastRequest, err = c.Store.LastRequest(r.Context(), d.ID); err != nil {
		return row, err
	}
	for _, h := range hooks {
		if !h.receives(d.ID) {
			continue
		}
		row.Webhooks++
		if !h.Healthy() {
			row.Failing++
		}
	}
	return row, nil
}

// directories lists the directories with their counts and health.
func (c *console) directories(w http.ResponseWriter, r *http.Request, s *session) error {
	dirs, err := c.Store.Directories(r.Context())
	if err != nil {
		return err
	}
	// Every webhook's health once, not once per directory.
	hooks, err := c.webhooksOf(r, "")
	if err != nil {
		return err
	}
	rows := make([]directoryRow, 0, len(dirs))
	for _, d := range dirs {
		row, err := c.directoryRow(r, d, hooks)
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	c.render(w, r, http.StatusOK, "directories", s, map[string]any{"Directories": rows, "SCIM": c.scimBase(r)})
	return nil
}

// createDirectory creates a directory and shows it.
func (c *console) createDirectory(w http.ResponseWriter, r *http.Request, s *session) error {
	name := strings.TrimSpace(r.PostForm.Get("name"))
	if name == "" {
		return pageError{http.StatusBadRequest, "A directory needs a name."}
	}
	ctx := store.WithEventContext(r.Context(), store.EventContext{Source: store.SourceConsole, Token: s.Admin.Name})
	d, err := c.Store.CreateDirectory(ctx, name)
	if errors.Is(err, store.ErrConflict) {
		return pageError{http.StatusConflict, fmt.Sprintf("A directory named %q exists.", name)}
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, BasePath+"/directories/"+d.ID, http.StatusSeeOther)
	return nil
}

// deleteDirectory deletes a directory whose name the form confirms.
func (c *console) deleteDirectory(w http.ResponseWriter, r *http.Request, s *session) error {
	d, err := c.Store.Directory(r.Context(), r.PathValue("dir"))
	if err != nil {
		return err
	}
	if r.PostForm.Get("confirm") != d.Name {
		return pageError{http.StatusBadRequest, fmt.Sprintf("To delete the directory, type its name (%s) to confirm.", d.Name)}
	}
	ctx := store.WithEventContext(r.Context(), store.EventContext{Source: store.SourceConsole, Token: s.Admin.Name})
	if err := c.Store.DeleteDirectory(ctx, d.ID); err != nil {
		return err
	}
	http.Redirect(w, r, BasePath+"/", http.StatusSeeOther)
	return nil
}

// directory shows a directory: its counts, tokens, clients, webhooks and
// sync runs.
func (c *console) directory(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.showDirectory(w, r, s, nil)
}

type createdSecret struct{ Kind, Name, ID, Secret string }

// showDirectory renders the directory page; created, when set, is a
// secret just made, which it shows this once (201).
func (c *console) showDirectory(w http.ResponseWriter, r *http.Request, s *session, created *createdSecret) error {
	d, err := c.Store.Directory(r.Context(), r.PathValue("dir"))
	if err != nil {
		return err
	}
	hooks, err := c.webhooksOf(r, d.ID)
	if err != nil {
		return err
	}
	row, err := c.directoryRow(r, d, hooks)
	if err != nil {
		return err
	}
	tokens, err := c.Store.Tokens(r.Context(), d.ID)
	if err != nil {
		return err
	}
	clients, err := c.Store.Clients(r.Context(), d.ID)
	if err != nil {
		return err
	}
	runs, err := c.Store.SyncRuns(r.Context(), "", 20)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created != nil {
		status = http.StatusCreated
	}
	c.render(w, r, status, "directory", s, map[string]any{"Dir": row, "Tokens": tokens, "Clients": clients, "Runs": runs,
		"SCIM": c.scimBase(r), "Created": created, "Webhooks": hooks})
	return nil
}

func (c *console) createToken(w http.ResponseWriter, r *http.Request, s *session) error {
	d, err := c.Store.Directory(r.Context(), r.PathValue("dir"))
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	if name == "" {
		return pageError{http.StatusBadRequest, "A token needs a name, such as okta."}
	}
	ctx := store.WithEventContext(r.Context(), store.EventContext{Source: store.SourceConsole, Token: s.Admin.Name})
	tok, secret, err := c.Store.CreateToken(ctx, d.ID, name, time.Time{})
	if err != nil {
		return err
	}
	return c.showDirectory(w, r, s, &createdSecret{Kind: "token", Name: tok.Name, ID: tok.ID, Secret: secret})
}

func (c *console) revokeToken(w http.ResponseWriter, r *http.Request, s *session) error {
	d, err := c.Store.Directory(r.Context(), r.PathValue("dir"))
	if err != nil {
		return err
	}
	ctx := store.WithEventContext(r.Context(), store.EventContext{Source: store.SourceConsole, Token: s.Admin.Name})
	if err := c.Store.RevokeToken(ctx, d.ID, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, BasePath+"/directories/"+d.ID, http.StatusSeeOther)
	return nil
}

func (c *console) createClient(w http.ResponseWriter, r *http.Request, s *session) error {
	d, err := c.Store.Directory(r.Context(), r.PathValue("dir"))
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	if name == "" {
		return pageError{http.StatusBadRequest, "An OAuth client needs a name, such as entra."}
	}
	cl, secret, err := c.Store.CreateClient(r.Context(), d.ID, name)
	if err != nil {
		return err
	}
	return c.showDirectory(w, r, s, &createdSecret{Kind: "OAuth client", Name: cl.Name, ID: cl.ID, Secret: secret})
}

func (c *console) revokeClient(w http.ResponseWriter, r *http.Request, s *session) error {
	d, err := c.Store.Directory(r.Context(), r.PathValue("dir"))
	if err != nil {
		return err
	}
	if err := c.Store.RevokeClient(r.Context(), d.ID, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, BasePath+"/directories/"+d.ID, http.StatusSeeOther)
	return nil
}

// quote is s as a SCIM filter's string literal.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// pageNumber reads the 1-based page parameter.
func pageNumber(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// pager is what a paged list's links need.
type pager struct {
	Page, Pages, Total int
	Prev, Next         string // query strings, "" when there is none
}

func newPager(r *http.Request, page, total int) pager {
	p := pager{Page: page, Total: total, Pages: max((total+pageSize-1)/pageSize, 1)}
	link := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return "?" + q.Encode()
	}
	if page > 1 {
		p.Prev = link(page - 1)
	}
	if page < p.Pages {
		p.Next = link(page + 1)
	}
	return p
}

// userFilter is the SCIM filter of the users page's search and active
// choice ("" for all users). The quick search compares what the store
// indexes (userName from its start, an email or externalId whole); the
// full one also looks inside userNames, emails and names, reading every
// user.
func userFilter(search, active string, full bool) string {
	var parts []string
	if search != "" {
		q := quote(search)
		if full {
			parts = append(parts, "(userName co "+q+" or emails.value co "+q+" or externalId eq "+q+
				" or name.formatted co "+q+" or name.givenName co "+q+" or name.familyName co "+q+" or displayName co "+q+")")
		} else {
			parts = append(parts, "(userName sw "+q+" or emails.value eq "+q+" or externalId eq "+q+")")
		}
	}
	switch active {
	case "true", "false":
		parts = append(parts, "active eq "+active)
	}
	return strings.Join(parts, " and ")
}

type userRow struct {
	ID, UserName, Name, Email, ExternalID string
	Active                                bool
}

func str(v any) string { s, _ := v.(string); return s }

func userRowOf(res *resource.Resource) userRow {
	u := userRow{ID: res.ID(), UserName: str(res.Attrs["userName"]), ExternalID: res.ExternalID(), Active: res.Attrs["active"] == true}
	if n, ok := res.Attrs["name"].(map[string]any); ok {
		u.Name = str(n["formatted"])
		if u.Name == "" {
			u.Name = strings.TrimSpace(str(n["givenName"]) + " " + str(n["familyName"]))
		}
	}
	if u.Name == "" {
		u.Name = str(res.Attrs["displayName"])
	}
	if emails, ok := res.Attrs["emails"].([]any); ok {
		for _, e := range emails {
			if m, ok := e.(map[string]any); ok && (u.Email == "" || m["primary"] == true) {
				u.Email = str(m["value"])
			}
		}
	}
	return u
}

// users lists a page of a directory's users, searched and filtered.
func (c *console) users(w http.ResponseWriter, r *http.Request, s *session) error {
	d, err := c.Store.Directory(r.Context(), r.PathValue("dir"))
	if err != nil {
		return err
	}
	search, active := strings.TrimSpace(r.URL.Query().Get("q")), r.URL.Query().Get("active")
	full := r.URL.Query().Get("full") == "1"
	pageN := pageNumber(r)
	rt := c.Registry.ResourceType("User")
	list := func(full bool) (store.Page, error) {
		q := store.Query{Type: rt, StartIndex: (pageN-1)*pageSize + 1, Count: pageSize, Budget: c.budget()}
		if f := userFilter(search, active, full); f != "" {
			var err error
			if q.Filter, err = filter.Parse(f, rt); err != nil {
				return store.Page{}, pageError{http.StatusBadRequest, "The search could not be understood: " + err.Error()}
			}
		}
		return c.Store.List(r.Context(), d.ID, q)
	}
	page, err := list(full)
	if err != nil {
		return err
	}
	if search != "" && !full && page.Total == 0 {
		// Nothing starts so: look inside names and addresses too.
		full = true
		if page, err = list(true); err != nil {
			return err
		}
	}
	fullLink := ""
	if search != "" && !full {
		fq := r.URL.Query()
		fq.Set("full", "1")
		fq.Del("page")
		fullLink = "?" + fq.Encode()
	}
	rows := make([]userRow, len(page.Resources))
	for i, res := range page.Resources {
		rows[i] = userRowOf(res)
	}
	c.render(w, r, http.StatusOK, "users", s, map[string]any{"Dir": d, "Users": rows, "Search": search, "Active": active, "Full": full, "FullLink": fullLink,
		"Live":  search == "" && active == "" && pageN == 1,
		"Pager": newPager(r, pageN, page.Total), "SCIM": c.scimBase(r)})
	return nil
}

type eventRow struct {
	store.Event
	JSON string
}

// user shows a user (or what is kept of a deleted one): its attributes,
// groups, SCIM JSON, events and requests.
func (c *console) user(w http.ResponseWriter, r *http.Request, s *session) error {
	d, err := c.Store.Directory(r.Context(), r.PathValue("dir"))
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	res, err := c.Store.Get(r.Context(), d.ID, c.Registry.ResourceType("User"), id, true)
	notFound := errors.Is(err, store.ErrNotFound)
	if err != nil && !notFound {
		return err
	}
	// A deleted user's history and requests are still worth showing.
	events, err := c.Store.ResourceEvents(r.Context(), d.ID, id, 100)
	if err != nil {
		return err
	}
	if notFound && len(events) == 0 {
		return pageError{http.StatusNotFound, "There is no such user in this directory."}
	}
	reqs, err := c.Store.Requests(r.Context(), store.RequestQuery{Directory: d.ID, Resource: id, Limit: 100})
	if err != nil {
		return err
	}
	data := map[string]any{"Dir": d, "ID": id, "Events": eventRows(events), "Requests": reqs, "Deleted": notFound}
	if res != nil {
		raw, err := res.MarshalJSON()
		if err != nil {
			return fmt.Errorf("console: encode user %s: %w", id, err)
		}
		data["User"] = userRowOf(res)
		data["Raw"] = raw
		var groups []map[string]any
		if gs, ok := res.Attrs["groups"].([]any); ok {
			for _, g := range gs {
				if m, ok := g.(map[string]any); ok {
					groups = append(groups, m)
				}
			}
		}
		data["Groups"] = groups
		data["Attrs"] = attributes(raw)
	}
	c.render(w, r, http.StatusOK, "user", s, data)
	return nil
}

func eventRows(events []store.Event) []eventRow {
	rows := make([]eventRow, len(events))
	for i, e := range events {
		b, _ := e.MarshalJSON()
		rows[i] = eventRow{Event: e, JSON: string(b)}
	}
	return rows
}

type attr struct{ Name, Value string }

// attributes lists the attributes of a resource's SCIM JSON (raw, which
// holds what the SCIM API returns: never a password), each value as
// JSON unless a string, sorted by name, without schemas and groups.
func attributes(raw []byte) []attr {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	var out []attr
	for k, v := range m {
		if k == "groups" || k == "schemas" {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v)
		}
		out = append(out, attr{k, s})
	}
	slices.SortFunc(out, func(a, b attr) int { return strings.Compare(a.Name, b.Name) })
	return out
}

type groupRow struct {
	ID, Name, ExternalID string
	Members              int
}

// groups lists a page of a directory's groups with their member counts.
func (c *console) groups(w http.ResponseWriter, r *http.Request, s *session) error {
	d, err := c.Store.Directory(r.Context(), r.PathValue("dir"))
	if err != nil {
		return err
	}
	pageN := pageNumber(r)
	rt := c.Registry.ResourceType("Group")
	// Without members: a group's count is read apart, so that a big group
	// on the page does not load all of them.
	q := store.Query{Type: rt, StartIndex: (pageN-1)*pageSize + 1, Count: pageSize, Budget: c.budget()}
	if search := strings.TrimSpace(r.URL.Query().Get("q")); search != "" {
		if q.Filter, err = filter.Parse("displayName co "+quote(search)+" or externalId eq "+quote(search), rt); err != nil {
			return pageError{http.StatusBadRequest, "The search could not be understood: " + err.Error()}
		}
	}
	page, err := c.Store.List(r.Context(), d.ID, q)
	if err != nil {
		return err
	}
	rows := make([]groupRow, len(page.Resources))
	for i, res := range page.Resources {
		_, n, err := c.Store.GroupMembers(r.Context(), d.ID, res.ID(), "", 1)
		if err != nil && !errors.Is(err, store.ErrNotFound) { // deleted meanwhile: 0
			return err
		}
		rows[i] = groupRow{ID: res.ID(), Name: str(res.Attrs["displayName"]), ExternalID: res.ExternalID(), Members: n}
	}
	c.render(w, r, http.StatusOK, "groups", s, map[string]any{"Dir": d, "Groups": rows, "Search": r.URL.Query().Get("q"),
		"Pager": newPager(r, pageN, page.Total)})
	return nil
}

// group shows a group and a page of its members (after the id in
// ?after=), read a page at a time so that a big group's page stays fast.
func (c *console) group(w http.ResponseWriter, r *http.Request, s *session) error {
	d, err := c.Store.Directory(r.Context(), r.PathValue("dir"))
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	res, err := c.Store.Get(r.Context(), d.ID, c.Registry.ResourceType("Group"), id, false)
	if err != nil {
		return err
	}
	after := r.URL.Query().Get("after")
	members, total, err := c.Store.GroupMembers(r.Context(), d.ID, id, after, pageSize)
	if err != nil {
		return err
	}
	next := ""
	if len(members) == pageSize {
		next = "?after=" + url.QueryEscape(members[len(members)-1].ID)
	}
	events, err := c.Store.ResourceEvents(r.Context(), d.ID, id, 50)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "group", s, map[string]any{"Dir": d, "ID": id, "Name": str(res.Attrs["displayName"]),
		"ExternalID": res.ExternalID(), "Members": members, "Total": total, "After": after, "Next": next, "Events": eventRows(events)})
	return nil
}

// requests shows the request log, newest first, filtered by directory,
// status class, method, resource and time range.
func (c *console) requests(w http.ResponseWriter, r *http.Request, s *session) error {
	p := r.URL.Query()
	q := store.RequestQuery{Directory: p.Get("directory"), Method: strings.ToUpper(p.Get("method")), Resource: strings.TrimSpace(p.Get("resource")), Limit: 100}
	if sc := p.Get("status"); sc != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(sc, "xx"))
		if err != nil || n < 1 || n > 5 {
			return pageError{http.StatusBadRequest, "The status class must be 2xx, 3xx, 4xx or 5xx."}
		}
		q.StatusClass = n
	}
	for _, t := range []struct {
		name string
		to   *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		v := p.Get(t.name)
		if v == "" {
			continue
		}
		tm, err := parseTime(v)
		if err != nil {
			return pageError{http.StatusBadRequest, fmt.Sprintf("%q is not a time: write 2026-12-07T10:00 (UTC) or 2026-12-07T10:00:00Z.", v)}
		}
		*t.to = tm
	}
	if b := p.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil {
			return pageError{http.StatusBadRequest, "The page link is broken."}
		}
		q.Before = n
	}
	reqs, err := c.Store.Requests(r.Context(), q)
	if err != nil {
		return err
	}
	dirs, names, err := c.directoryNames(r)
	if err != nil {
		return err
	}
	next := ""
	if len(reqs) == q.Limit {
		nq := r.URL.Query()
		nq.Set("before", strconv.FormatInt(reqs[len(reqs)-1].ID, 10))
		next = "?" + nq.Encode()
	}
	c.render(w, r, http.StatusOK, "requests", s, map[string]any{"Requests": reqs, "Directories": dirs, "Names": names, "Q": p,
		"Next": next, "Methods": []string{"GET", "POST", "PUT", "PATCH", "DELETE"}, "Classes": []string{"2xx", "3xx", "4xx", "5xx"}})
	return nil
}

// directoryNames returns the directories and their names by ID, for the
// pages that name the directory of each row.
func (c *console) directoryNames(r *http.Request) ([]store.Directory, map[string]string, error) {
	dirs, err := c.Store.Directories(r.Context())
	if err != nil {
		return nil, nil, err
	}
	names := make(map[string]string, len(dirs))
	for _, d := range dirs {
		names[d.ID] = d.Name
	}
	return dirs, names, nil
}

// parseTime reads a time of the request log's filter: RFC 3339, or the
// value of an <input type="datetime-local"> taken as UTC.
func parseTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("console: time %q", v)
}
