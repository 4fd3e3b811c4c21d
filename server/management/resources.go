package management

import (
	"net/http"
	"strconv"

	"github.com/rosterhq/roster/store"
)

// Limits of the users and groups lists.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// listResources answers GET …/users and …/groups with {"data":
// [resource, …], "next": cursor}: a page in creation order (users with
// their groups, groups without their members), and the cursor for the
// next page ("" after the last). Pages follow the SCIM API's cursors, so
// a walk sees every resource that exists throughout it once.
func (a *api) listResources(typ string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		d, err := a.directory(r)
		if err != nil {
			return err
		}
		rt := a.Registry.ResourceType(typ)
		limit, err := intParam(r, "limit", defaultPageSize)
		if err != nil {
			return err
		}
		if limit < 1 || limit > maxPageSize {
			return errorf(http.StatusBadRequest, "limit must be between 1 and %d, not %d", maxPageSize, limit)
		}
		after := r.URL.Query().Get("after")
		if _, err := strconv.ParseInt(after, 10, 64); after != "" && err != nil {
			return errorf(http.StatusBadRequest, "after must be the next of a previous page, not %q", after)
		}
		page, err := a.Store.List(r.Context(), d.ID, store.Query{Type: rt, Cursor: true, After: after, Count: int(limit),
			Members: rt.Schema.Attribute("groups") != nil, NoTotal: true})
		if err != nil {
			return err
		}
		writeResources(w, page)
		return nil
	}
}

// writeResources writes a page as {"data": […], "next": cursor}.
func writeResources(w http.ResponseWriter, page store.Page) {
	buf := []byte(`{"data":[`)
	for i, res := range page.Resources {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = res.AppendJSON(buf, nil)
	}
	buf = append(buf, `],"next":`...)
	buf = strconv.AppendQuote(buf, page.Next)
	buf = append(buf, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf)
}

// getResource answers GET …/users/{id} and …/groups/{id}: a user with
// its groups, a group with its members.
func (a *api) getResource(typ string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		d, err := a.directory(r)
		if err != nil {
			return err
		}
		rt := a.Registry.ResourceType(typ)
		res, err := a.Store.Get(r.Context(), d.ID, rt, r.PathValue("id"), true)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(append(res.AppendJSON(nil, nil), '\n'))
		return nil
	}
}
