package elimitytest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
)

// store is the library's ResourceHandler over a map: one resource
// type's resources by id, in creation order. What it hands the library
// and takes from it is copied, as the library's handlers read what they
// were given while other requests change the store.
type store struct {
	unique string // the attribute unique among the resources, ignoring case
	peer   *store // the other resource type, whose members lose a deleted id

	mu    sync.Mutex
	items map[string]*item
	ids   []string // in creation order
	next  int
}

type item struct {
	id, externalID string
	attrs          map[string]any
	created, mod   time.Time
}

func newStore(unique string) *store {
	return &store{unique: unique, items: map[string]*item{}}
}

func (s *store) resource(it *item) scim.Resource {
	created, mod := it.created, it.mod
	r := scim.Resource{ID: it.id, Attributes: clone(it.attrs).(map[string]any), Meta: scim.Meta{Created: &created, LastModified: &mod}}
	if it.externalID != "" {
		r.ExternalID = optional.NewString(it.externalID)
	}
	return r
}

// clone deep-copies a JSON-like value.
func clone(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = clone(x)
		}
		return out
	case scim.ResourceAttributes:
		return clone(map[string]any(v))
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = clone(x)
		}
		return out
	}
	return v
}

// taken reports whether another resource than id holds the unique value
// of attrs. s.mu must be held.
func (s *store) taken(id string, attrs map[string]any) bool {
	v, _ := attrs[s.unique].(string)
	for _, it := range s.items {
		if other, _ := it.attrs[s.unique].(string); it.id != id && strings.EqualFold(other, v) {
			return true
		}
	}
	return false
}

// put creates (id "") or replaces a resource.
func (s *store) put(id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := clone(attrs).(map[string]any)
	delete(a, "password") // never returned (RFC 7643 §4.1.1), so not kept
	if s.taken(id, a) {
		return scim.Resource{}, scimerrors.ScimErrorUniqueness
	}
	ext, _ := a["externalId"].(string)
	delete(a, "externalId")
	now := time.Now()
	it := s.items[id]
	if id == "" {
		s.next++
		it = &item{id: fmt.Sprintf("%s-%06d", s.unique, s.next), created: now}
		s.items[it.id] = it
		s.ids = append(s.ids, it.id)
	} else if it == nil {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	it.externalID, it.attrs, it.mod = ext, a, now
	return s.resource(it), nil
}

// Create stores a new resource.
func (s *store) Create(_ *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	return s.put("", attrs)
}

// Replace replaces a resource's attributes.
func (s *store) Replace(_ *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	return s.put(id, attrs)
}

// Get returns a resource.
func (s *store) Get(_ *http.Request, id string) (scim.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.items[id]
	if it == nil {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	return s.resource(it), nil
}

// GetAll returns a page of the resources the filter matches.
func (s *store) GetAll(_ *http.Request, params scim.ListRequestParams) (scim.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []scim.Resource
	for _, id := range s.ids {
		r := s.resource(s.items[id])
		if params.FilterValidator != nil {
			doc := clone(r.Attributes).(map[string]any)
			doc["id"] = r.ID
			if r.ExternalID.Present() {
				doc["externalId"] = r.ExternalID.Value()
			}
			if params.FilterValidator.PassesFilter(doc) != nil {
				continue
			}
		}
		all = append(all, r)
	}
	start := min(max(params.StartIndex-1, 0), len(all))
	end := min(start+max(params.Count, 0), len(all))
	return scim.Page{TotalResults: len(all), Resources: slices.Clip(all[start:end])}, nil
}

// Delete deletes a resource, and takes it out of the groups it was a
// member of.
func (s *store) Delete(_ *http.Request, id string) error {
	s.mu.Lock()
	if s.items[id] == nil {
		s.mu.Unlock()
		return scimerrors.ScimErrorResourceNotFound(id)
	}
	delete(s.items, id)
	s.ids = slices.DeleteFunc(s.ids, func(x string) bool { return x == id })
	s.mu.Unlock()
	for _, st := range []*store{s, s.peer} {
		st.mu.Lock()
		for _, it := range st.items {
			if ms, ok := it.attrs["members"].([]any); ok {
				it.attrs["members"] = slices.DeleteFunc(ms, func(m any) bool { mm, _ := m.(map[string]any); return mm["value"] == id })
			}
		}
		st.mu.Unlock()
	}
	return nil
}

// Patch applies the operations to a copy of the resource, and stores it
// only when all of them applied and it breaks no uniqueness.
func (s *store) Patch(_ *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.items[id]
	if it == nil {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	a := clone(it.attrs).(map[string]any)
	ext := it.externalID
	for _, op := range ops {
		if err := apply(a, &ext, op); err != nil {
			return scim.Resource{}, err
		}
	}
	if s.taken(id, a) {
		return scim.Resource{}, scimerrors.ScimErrorUniqueness
	}
	it.attrs, it.externalID, it.mod = a, ext, time.Now()
	return s.resource(it), nil
}
