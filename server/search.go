package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

// searchAll is POST /.search (RFC 7644 §3.4.3): one query over every
// resource type, in registry order (users, then groups). A filter naming
// an attribute a type lacks selects nothing of that type. Sorting and
// cursors across types are not supported.
func (s *server) searchAll(w http.ResponseWriter, r *http.Request, req request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var sr scim.SearchRequest
	if err := json.Unmarshal(body, &sr); err != nil {
		return scim.BadRequest(scim.InvalidSyntax, "the search request is not a valid SearchRequest object")
	}
	if sr.SortBy != "" || sr.Cursor != nil {
		return scim.BadRequest(scim.InvalidValue, "sortBy and cursor apply to one resource type: search /Users/.search or /Groups/.search")
	}
	start, count := max(sr.StartIndex, 1), s.DefaultCount
	if sr.Count != nil {
		count = min(max(*sr.Count, 0), s.MaxResults)
	}
	type part struct {
		rt    *schema.ResourceType
		q     store.Query
		p     *resource.Projection
		total int
	}
	var parts []part
	total := 0
	// One budget for the whole search, which lists each type twice: each
	// list's selection is charged (Page.Spent), not the members and
	// groups its page then reads.
	unspent := s.QueryBudget
	budget := func() time.Duration {
		if s.QueryBudget < 0 {
			return 0
		}
		return max(unspent, time.Nanosecond)
	}
	for _, rt := range s.Registry.ResourceTypes() {
		pr, err := resource.NewProjection(rt, sr.Attributes, sr.ExcludedAttributes)
		if err != nil {
			return err
		}
		q := store.Query{Type: rt, Members: wantsMembers(rt, pr)}
		if sr.Filter != "" {
			if q.Filter, err = filter.Parse(sr.Filter, rt); err != nil {
				if errors.Is(err, schema.ErrUnknownAttribute) {
					continue // nothing of this type can match
				}
				return err
			}
		}
		q.Budget = budget()
		page, err := s.Store.List(r.Context(), req.dir, q) // Count 0: the total only
		if err != nil {
			return err
		}
		unspent -= page.Spent
		parts = append(parts, part{rt, q, pr, page.Total})
		total += page.Total
	}
	resources := []json.RawMessage{}
	skip, left := start-1, count
	base := s.baseURL(r)
	for _, pt := range parts {
		if skip >= pt.total {
			skip -= pt.total
			continue
		}
		if left == 0 {
			break
		}
		pt.q.StartIndex, pt.q.Count = skip+1, left
		pt.q.Budget = budget()
		page, err := s.Store.List(r.Context(), req.dir, pt.q)
		if err != nil {
			return err
		}
		unspent -= page.Spent
		for _, res := range page.Resources {
			s.locate(base, res, pt.p)
			resources = append(resources, res.AppendJSON(nil, pt.p))
		}
		left -= len(page.Resources)
		skip = 0
	}
	lr := scim.NewListResponse(total, resources)
	lr.StartIndex = start
	writeList(w, lr)
	return nil
}
