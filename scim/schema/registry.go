package schema

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Registry holds the schemas and resource types a service provider serves.
// It is safe for concurrent use; resource types it returns are immutable
// snapshots, so registering an extension never changes one a request holds.
type Registry struct {
	mu      sync.RWMutex
	schemas []*Schema
	types   []*ResourceType
}

// NewRegistry returns a registry with the core User schema extended by the
// Enterprise User schema, the Group schema, and the User and Group
// resource types.
func NewRegistry() *Registry {
	user, group, ent := UserSchema(), GroupSchema(), EnterpriseUserSchema()
	return &Registry{
		schemas: []*Schema{user, group, ent},
		types: []*ResourceType{
			{ID: "User", Name: "User", Endpoint: "/Users", Description: "User Account", Schema: user,
				Extensions: []Extension{{Schema: ent}}},
			{ID: "Group", Name: "Group", Endpoint: "/Groups", Description: "Group", Schema: group},
		},
	}
}

// Schema returns the schema with the given URN, compared
// case-insensitively, or nil.
func (r *Registry) Schema(urn string) *Schema {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.findLocked(urn)
}

// Schemas returns all registered schemas in registration order.
func (r *Registry) Schemas() []*Schema {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.schemas)
}

// ResourceType returns the resource type with the given name or id,
// compared case-insensitively, or nil.
func (r *Registry) ResourceType(name string) *ResourceType {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, rt := range r.types {
		if rt.named(name) {
			return rt
		}
	}
	return nil
}

// ResourceTypeAt returns the resource type served at endpoint ("/Users"),
// or nil. Endpoints are compared as written, as the paths of HTTP requests
// are: "/users" names none.
func (r *Registry) ResourceTypeAt(endpoint string) *ResourceType {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, rt := range r.types {
		if rt.Endpoint == endpoint {
			return rt
		}
	}
	return nil
}

// named reports whether rt's name or id is name, compared case-insensitively.
func (rt *ResourceType) named(name string) bool {
	return strings.EqualFold(rt.Name, name) || strings.EqualFold(rt.ID, name)
}

// ResourceTypes returns all resource types in registration order.
func (r *Registry) ResourceTypes() []*ResourceType {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.types)
}

// AddSchema registers s. A schema with the same URN must not already exist.
func (r *Registry) AddSchema(s *Schema) error {
	if s == nil {
		return fmt.Errorf("nil schema")
	}
	if err := s.normalize(); err != nil {
		return fmt.Errorf("schema %s: %w", s.ID, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addSchemaLocked(s)
}

func (r *Registry) addSchemaLocked(s *Schema) error {
	for _, old := range r.schemas {
		if strings.EqualFold(old.ID, s.ID) {
			return fmt.Errorf("schema %s already registered", s.ID)
		}
	}
	r.schemas = append(r.schemas, s)
	return nil
}

// AddResourceType registers rt and its schemas that are not registered yet.
// Its name, id and endpoint must not be those of a registered resource type;
// names and ids are compared with each other, as ResourceType finds either.
func (r *Registry) AddResourceType(rt *ResourceType) error {
	if rt.Name == "" || rt.Schema == nil || !strings.HasPrefix(rt.Endpoint, "/") {
		return fmt.Errorf("resource type %q needs a name, a schema and an endpoint starting with /", rt.Name)
	}
	if rt.ID == "" {
		rt.ID = rt.Name
	}
	for _, e := range rt.Extensions {
		if e.Schema == nil {
			return fmt.Errorf("resource type %s has an extension without a schema", rt.Name)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, old := range r.types {
		if old.named(rt.Name) || old.named(rt.ID) || strings.EqualFold(old.Endpoint, rt.Endpoint) {
			return fmt.Errorf("resource type %s already registered", rt.Name)
		}
	}
	// A failure unregisters the schemas registered so far, leaving the
	// registry as it was.
	n := len(r.schemas)
	for _, s := range append([]*Schema{rt.Schema}, extensionSchemas(rt)...) {
		if r.findLocked(s.ID) != s {
			err := s.normalize()
			if err != nil {
				err = fmt.Errorf("schema %s: %w", s.ID, err)
			} else {
				err = r.addSchemaLocked(s)
			}
			if err != nil {
				clear(r.schemas[n:])
				r.schemas = r.schemas[:n]
				return err
			}
		}
	}
	r.types = append(r.types, rt)
	return nil
}

// AddExtension adds the extension schema s to the resource type called
// resourceType, registering s if it is not registered yet. The resource type
// is replaced by a new value; those handed out before keep their extensions.
func (r *Registry) AddExtension(resourceType string, s *Schema, required bool) error {
	if s == nil {
		return fmt.Errorf("extension of %s: nil schema", resourceType)
	}
	if err := s.normalize(); err != nil {
		return fmt.Errorf("schema %s: %w", s.ID, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.IndexFunc(r.types, func(rt *ResourceType) bool { return rt.named(resourceType) })
	if i < 0 {
		return fmt.Errorf("unknown resource type %q", resourceType)
	}
	old := r.types[i]
	if strings.EqualFold(old.Schema.ID, s.ID) || old.Extension(s.ID) != nil {
		return fmt.Errorf("resource type %s already has schema %s", old.Name, s.ID)
	}
	if existing := r.findLocked(s.ID); existing == nil {
		r.schemas = append(r.schemas, s)
	} else {
		s = existing
	}
	rt := *old
	rt.Extensions = append(slices.Clone(old.Extensions), Extension{Schema: s, Required: required})
	r.types[i] = &rt
	return nil
}

func (r *Registry) findLocked(urn string) *Schema {
	for _, s := range r.schemas {
		if strings.EqualFold(s.ID, urn) {
			return s
		}
	}
	return nil
}

func extensionSchemas(rt *ResourceType) []*Schema {
	out := make([]*Schema, len(rt.Extensions))
	for i, e := range rt.Extensions {
		out[i] = e.Schema
	}
	return out
}
