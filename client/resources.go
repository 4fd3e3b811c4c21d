package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/client/patch"
	"github.com/rosterhq/roster/scim"
)

// Query selects and shapes the resources of a list (RFC 7644 §3.4.2).
type Query struct {
	// Filter is a filter expression; build it with package client/filter.
	Filter string
	// Attributes and ExcludedAttributes pick the attributes returned.
	Attributes         []string
	ExcludedAttributes []string
	// SortBy and Descending order the results, where the server sorts.
	SortBy     string
	Descending bool
	// StartIndex (1-based) and Count select a page for List; All pages
	// by itself, Count pages of it.
	StartIndex int
	Count      int
}

func (q Query) values() url.Values {
	v := url.Values{}
	if q.Filter != "" {
		v.Set("filter", q.Filter)
	}
	if len(q.Attributes) > 0 {
		v.Set("attributes", strings.Join(q.Attributes, ","))
	}
	if len(q.ExcludedAttributes) > 0 {
		v.Set("excludedAttributes", strings.Join(q.ExcludedAttributes, ","))
	}
	if q.SortBy != "" {
		v.Set("sortBy", q.SortBy)
		if q.Descending {
			v.Set("sortOrder", "descending")
		}
	}
	if q.StartIndex > 0 {
		v.Set("startIndex", strconv.Itoa(q.StartIndex))
	}
	if q.Count > 0 {
		v.Set("count", strconv.Itoa(q.Count))
	}
	return v
}

// Page is one page of a list.
type Page[T any] struct {
	TotalResults int
	StartIndex   int
	// NextCursor continues a cursor listing (RFC 9865); "" on the last page.
	NextCursor string
	Resources  []T
}

// kind is what User and Group share.
type kind interface {
	User | Group
}

// resources is an endpoint of resources of type T.
type resources[T kind] struct {
	c        *Client
	endpoint string
}

func (r resources[T]) path(id string) string { return r.endpoint + "/" + url.PathEscape(id) }

// Create creates a resource and returns it as the server stored it.
func (r resources[T]) Create(ctx context.Context, res *T) (*T, error) {
	resp, err := r.c.do(ctx, request{method: http.MethodPost, path: r.endpoint, body: res})
	if err != nil {
		return nil, err
	}
	return decodeResource[T](http.MethodPost, r.endpoint, resp)
}

// Get returns a resource by id.
func (r resources[T]) Get(ctx context.Context, id string, attrs ...string) (*T, error) {
	p := r.path(id)
	if len(attrs) > 0 {
		p += "?attributes=" + url.QueryEscape(strings.Join(attrs, ","))
	}
	resp, err := r.c.do(ctx, request{method: http.MethodGet, path: p, idempotent: true})
	if err != nil {
		return nil, err
	}
	return decodeResource[T](http.MethodGet, p, resp)
}

// Replace replaces a resource (PUT) with res, which carries its id; when
// res carries a version (meta.version, as read), the server replaces it
// only if it is still that version (If-Match), else the call fails with
// ErrPreconditionFailed.
func (r resources[T]) Replace(ctx context.Context, res *T) (*T, error) {
	id, version := idOf(res)
	if id == "" {
		return nil, fmt.Errorf("client: replace: the %s has no id", strings.TrimPrefix(r.endpoint, "/"))
	}
	p := r.path(id)
	resp, err := r.c.do(ctx, request{method: http.MethodPut, path: p, body: res, ifMatch: version, idempotent: true})
	if err != nil {
		return nil, err
	}
	return decodeResource[T](http.MethodPut, p, resp)
}

// Patch applies PATCH operations to a resource and returns it as the
// server answers; nil when the server answers 204 No Content. A server
// without PATCH support (its ServiceProviderConfig says so) gets the
// resource read, changed here and replaced (PUT) instead.
func (r resources[T]) Patch(ctx context.Context, id string, ops ...patch.Op) (*T, error) {
	return r.patch(ctx, id, "", ops)
}

// PatchIfMatch is Patch that the server applies only if the resource is
// still at version (If-Match); else ErrPreconditionFailed.
func (r resources[T]) PatchIfMatch(ctx context.Context, id, version string, ops ...patch.Op) (*T, error) {
	return r.patch(ctx, id, version, ops)
}

// PatchByReplace applies PATCH operations as Patch does for a server
// without PATCH support, whatever the server says: it reads the resource,
// applies them here and replaces it (PUT) If-Match the version read. It
// is the fallback for a server that refuses a PATCH's shape.
func (r resources[T]) PatchByReplace(ctx context.Context, id string, ops ...patch.Op) (*T, error) {
	if len(ops) == 0 {
		return nil, fmt.Errorf("client: patch %s: no operations", id)
	}
	return r.patchByReplace(ctx, id, "", ops)
}

func (r resources[T]) patch(ctx context.Context, id, version string, ops []patch.Op) (*T, error) {
	if len(ops) == 0 {
		return nil, fmt.Errorf("client: patch %s: no operations", id)
	}
	if spc, err := r.c.ServiceProviderConfig(ctx); err == nil && !spc.Patch.Supported {
		return r.patchByReplace(ctx, id, version, ops)
	}
	p := r.path(id)
	// A PATCH of the same operations applied twice ends the same for
	// replace and remove, not for add to a multi-valued attribute without
	// a key; members are keyed by value, so only retry when every add is
	// to members.
	resp, err := r.c.do(ctx, request{method: http.MethodPatch, path: p, body: patch.NewRequest(ops...),
		ifMatch: version, idempotent: retrySafe(ops)})
	if err != nil {
		return nil, err
	}
	if resp.status == http.StatusNoContent || len(resp.body) == 0 {
		return nil, nil
	}
	return decodeResource[T](http.MethodPatch, p, resp)
}

// retrySafe reports whether sending ops twice ends as sending them once.
func retrySafe(ops []patch.Op) bool {
	for _, o := range ops {
		if strings.EqualFold(o.Op, "add") && !strings.EqualFold(o.Path, "members") {
			return false
		}
	}
	return true
}

// Delete deletes a resource.
func (r resources[T]) Delete(ctx context.Context, id string) error {
	_, err := r.c.do(ctx, request{method: http.MethodDelete, path: r.path(id), idempotent: true})
	return err
}

// List returns one page of the resources q selects.
func (r resources[T]) List(ctx context.Context, q Query) (*Page[T], error) {
	return r.list(ctx, q.values())
}

func (r resources[T]) list(ctx context.Context, v url.Values) (*Page[T], error) {
	p := r.endpoint
	if len(v) > 0 {
		p += "?" + v.Encode()
	}
	resp, err := r.c.do(ctx, request{method: http.MethodGet, path: p, idempotent: true})
	if err != nil {
		return nil, err
	}
	var lr scim.ListResponse[T]
	if err := decode(http.MethodGet, p, resp, &lr); err != nil {
		return nil, err
	}
	return &Page[T]{TotalResults: lr.TotalResults, StartIndex: lr.StartIndex, NextCursor: lr.NextCursor, Resources: lr.Resources}, nil
}

// All returns every resource q selects, page by page: by cursor (RFC 9865)
// when the server offers it, else by startIndex, asking each time for the
// resources after those it has received, so that pages smaller than asked
// (or than maxResults) lose nothing. It holds one page at a time. The
// iteration ends after an error, which it yields; a server that pages
// wrongly (ignores startIndex, repeats a cursor, answers an empty page
// while its totalResults says more remain) gets an error rather than a
// listing that is silently short, repeated or endless.
func (r resources[T]) All(ctx context.Context, q Query) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		count := q.Count
		cursor := false
		if spc, err := r.c.ServiceProviderConfig(ctx); err == nil {
			for _, limit := range []int{spc.Filter.MaxResults, spc.Pagination.MaxPageSize} {
				if limit > 0 && (count == 0 || count > limit) {
					count = limit
				}
			}
			cursor = spc.Pagination.Cursor && q.SortBy == "" && q.StartIndex <= 1
		}
		if count <= 0 {
			count = 100
		}
		v := q.values()
		v.Set("count", strconv.Itoa(count))
		if cursor {
			v.Del("startIndex")
			v.Set("cursor", "")
		}
		fail := func(format string, args ...any) {
			yield(nil, fmt.Errorf("client: list %s: "+format, append([]any{r.endpoint}, args...)...))
		}
		next := max(q.StartIndex, 1)
		var prevFirst string // the id the previous page started with
		empty := 0           // cursor pages in a row without resources
		for {
			if !cursor {
				v.Set("startIndex", strconv.Itoa(next))
			}
			page, err := r.list(ctx, v)
			if err != nil {
				yield(nil, err)
				return
			}
			if !cursor && page.StartIndex != 0 && page.StartIndex != next {
				fail("asked for startIndex %d, the server answered startIndex %d", next, page.StartIndex)
				return
			}
			if len(page.Resources) > 0 {
				first, _ := idOf(&page.Resources[0])
				if first != "" && first == prevFirst {
					fail("the server answered the same page again (at %d)", next)
					return
				}
				prevFirst = first
			}
			for i := range page.Resources {
				if !yield(&page.Resources[i], nil) {
					return
				}
			}
			if cursor {
				if page.NextCursor == "" {
					return
				}
				if len(page.Resources) == 0 {
					if empty++; empty > maxEmptyCursorPages {
						fail("%d empty pages in a row, each with a next cursor", empty)
						return
					}
				} else {
					empty = 0
				}
				if page.NextCursor == v.Get("cursor") {
					fail("the server answered the cursor it was sent as the next one")
					return
				}
				v.Set("cursor", page.NextCursor)
				continue
			}
			next += len(page.Resources)
			if next > page.TotalResults {
				return
			}
			// An empty page before the total is reached: stopping would
			// pass a short listing off as complete (a sync would then
			// take the rest as deleted), and asking again would loop.
			if len(page.Resources) == 0 {
				fail("an empty page at startIndex %d of %d results", next, page.TotalResults)
				return
			}
		}
	}
}

// maxEmptyCursorPages is how many empty pages in a row All follows by
// their next cursor before it takes the server to be looping.
const maxEmptyCursorPages = 10

func decodeResource[T kind](method, path string, resp *response) (*T, error) {
	var out T
	if err := decode(method, path, resp, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// idOf returns a resource's id and version.
func idOf(res any) (id, version string) {
	switch r := res.(type) {
	case *User:
		return r.ID, r.Meta.Version
	case *Group:
		return r.ID, r.Meta.Version
	}
	return "", ""
}
