package reconcile_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	filter "github.com/scim2/filter-parser/v2"
)

// startElimity starts a SCIM server built on github.com/elimity-com/scim
// with users and groups in memory (memStore) and no extension schema,
// and returns its base URL and bearer token. Its PATCH is strict: a
// replace or remove through a filter that matches nothing is 400
// noTarget, and the library refuses a path its schema lacks (400
// invalidPath).
func startElimity(t testing.TB) (baseURL, token string) {
	t.Helper()
	users := &memStore{unique: "userName", items: map[string]*memItem{}}
	groups := &memStore{unique: "displayName", items: map[string]*memItem{}}
	users.peer, groups.peer = groups, users
	srv, err := scim.NewServer(&scim.ServerArgs{
		ServiceProviderConfig: &scim.ServiceProviderConfig{SupportFiltering: true, SupportPatch: true, MaxResults: 50},
		ResourceTypes: []scim.ResourceType{
			{ID: optional.NewString("User"), Name: "User", Endpoint: "/Users", Schema: schema.CoreUserSchema(), Handler: users},
			{ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups", Schema: schema.CoreGroupSchema(), Handler: groups},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	token = "elimity-token"
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return hs.URL + "/v2", token
}

// memStore is an elimity-com/scim ResourceHandler over a map: one
// resource type's resources by id.
type memStore struct {
	unique string    // the attribute unique among the resources, ignoring case
	peer   *memStore // the other resource type, whose members lose a deleted id

	mu    sync.Mutex
	items map[string]*memItem
	next  int
}

type memItem struct {
	id, externalID string
	attrs          scim.ResourceAttributes
	created, mod   time.Time
}

func (s *memStore) resource(it *memItem) scim.Resource {
	r := scim.Resource{ID: it.id, Attributes: clone(it.attrs).(map[string]any), Meta: scim.Meta{Created: &it.created, LastModified: &it.mod}}
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
func (s *memStore) taken(id string, attrs map[string]any) bool {
	v, _ := attrs[s.unique].(string)
	for _, it := range s.items {
		if other, _ := it.attrs[s.unique].(string); it.id != id && strings.EqualFold(other, v) {
			return true
		}
	}
	return false
}

func (s *memStore) store(id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := clone(attrs).(map[string]any)
	if s.taken(id, a) {
		return scim.Resource{}, scimerrors.ScimErrorUniqueness
	}
	ext, _ := a["externalId"].(string)
	delete(a, "externalId")
	now := time.Now()
	it := s.items[id]
	if id == "" {
		s.next++
		it = &memItem{id: fmt.Sprintf("%s-%d", s.unique, s.next), created: now}
		s.items[it.id] = it
	} else if it == nil {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	it.externalID, it.attrs, it.mod = ext, a, now
	return s.resource(it), nil
}

func (s *memStore) Create(_ *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	return s.store("", attrs)
}

func (s *memStore) Replace(_ *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	return s.store(id, attrs)
}

func (s *memStore) Get(_ *http.Request, id string) (scim.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.items[id]
	if it == nil {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	return s.resource(it), nil
}

func (s *memStore) GetAll(_ *http.Request, params scim.ListRequestParams) (scim.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range s.items {
			if !yield(id) {
				return
			}
		}
	})
	var all []scim.Resource
	for _, id := range ids {
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
	start := max(params.StartIndex-1, 0)
	end := min(start+params.Count, len(all))
	if start > len(all) {
		start = len(all)
	}
	return scim.Page{TotalResults: len(all), Resources: all[start:end]}, nil
}

func (s *memStore) Delete(_ *http.Request, id string) error {
	s.mu.Lock()
	if s.items[id] == nil {
		s.mu.Unlock()
		return scimerrors.ScimErrorResourceNotFound(id)
	}
	delete(s.items, id)
	s.mu.Unlock()
	// A deleted user or group leaves the groups it was a member of.
	for _, st := range []*memStore{s, s.peer} {
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

func (s *memStore) Patch(_ *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.items[id]
	if it == nil {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	a := clone(it.attrs).(map[string]any)
	ext := it.externalID
	for _, op := range ops {
		if err := patchAttrs(a, &ext, op); err != nil {
			return scim.Resource{}, err
		}
	}
	if s.taken(id, a) {
		return scim.Resource{}, scimerrors.ScimErrorUniqueness
	}
	it.attrs, it.externalID, it.mod = a, ext, time.Now()
	return s.resource(it), nil
}

// patchAttrs applies one operation, strictly (RFC 7644 §3.5.2): a replace
// or remove through a filter that matches no element is noTarget.
func patchAttrs(a map[string]any, ext *string, op scim.PatchOperation) error {
	kind := strings.ToLower(op.Op)
	if op.Path == nil {
		values, ok := op.Value.(map[string]any)
		if !ok {
			return scimerrors.ScimErrorInvalidValue
		}
		for k, v := range values {
			if strings.EqualFold(k, "externalId") {
				*ext, _ = v.(string)
				continue
			}
			a[k] = v
		}
		return nil
	}
	name := op.Path.AttributePath.AttributeName
	if strings.EqualFold(name, "externalId") {
		*ext, _ = op.Value.(string)
		if kind == "remove" {
			*ext = ""
		}
		return nil
	}
	key := keyOf(a, name)
	if sub := op.Path.AttributePath.SubAttribute; sub != nil && op.Path.ValueExpression == nil {
		obj, _ := a[key].(map[string]any)
		if obj == nil {
			if kind == "remove" {
				return nil
			}
			obj = map[string]any{}
			a[key] = obj
		}
		if kind == "remove" {
			delete(obj, keyOf(obj, *sub))
		} else {
			obj[keyOf(obj, *sub)] = op.Value
		}
		return nil
	}
	if op.Path.ValueExpression == nil {
		switch kind {
		case "remove":
			if vs, ok := op.Value.([]any); ok { // remove these values (Entra's members)
				list, _ := a[key].([]any)
				a[key] = slices.DeleteFunc(list, func(e any) bool { return slices.ContainsFunc(vs, func(v any) bool { return sameValue(e, v) }) })
				return nil
			}
			delete(a, key)
		case "add":
			if vs, ok := op.Value.([]any); ok {
				list, _ := a[key].([]any)
				for _, v := range vs {
					if !slices.ContainsFunc(list, func(e any) bool { return sameValue(e, v) }) {
						list = append(list, v)
					}
				}
				a[key] = list
				return nil
			}
			a[key] = op.Value
		default:
			a[key] = op.Value
		}
		return nil
	}
	expr, ok := op.Path.ValueExpression.(*filter.AttributeExpression)
	if !ok || expr.Operator != filter.EQ {
		return scimerrors.ScimErrorInvalidFilter
	}
	list, _ := a[key].([]any)
	var hit []int
	for i, e := range list {
		m, _ := e.(map[string]any)
		if v, _ := m[keyOf(m, expr.AttributePath.AttributeName)].(string); strings.EqualFold(v, fmt.Sprint(expr.CompareValue)) {
			hit = append(hit, i)
		}
	}
	if len(hit) == 0 {
		return scimerrors.ScimErrorNoTarget
	}
	sub := op.Path.SubAttribute
	if kind == "remove" && sub == nil {
		for i := len(hit) - 1; i >= 0; i-- {
			list = slices.Delete(list, hit[i], hit[i]+1)
		}
		a[key] = list
		return nil
	}
	for _, i := range hit {
		m := list[i].(map[string]any)
		switch {
		case sub == nil:
			if v, ok := op.Value.(map[string]any); ok {
				list[i] = v
			}
		case kind == "remove":
			delete(m, keyOf(m, *sub))
		default:
			m[keyOf(m, *sub)] = op.Value
		}
	}
	return nil
}

// keyOf returns the key of m that is name ignoring case, or name.
func keyOf(m map[string]any, name string) string {
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

// sameValue reports whether two elements of a multi-valued attribute are
// the same: equal "value"s for complex ones.
func sameValue(a, b any) bool {
	am, ok1 := a.(map[string]any)
	bm, ok2 := b.(map[string]any)
	if ok1 && ok2 {
		return am["value"] != nil && am["value"] == bm["value"]
	}
	return a == b
}
