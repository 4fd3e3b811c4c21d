package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// URNs of the schemas defined by RFC 7643.
const (
	UserURN           = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupURN          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseUserURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	// SchemaURN, ResourceTypeURN and ServiceProviderConfigURN name the
	// schemas of the discovery resources (RFC 7643 §5–7).
	SchemaURN                = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	ResourceTypeURN          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	ServiceProviderConfigURN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
)

// Schema is a SCIM schema: a URN and the attributes it defines (RFC 7643 §7).
// A Schema must not be modified once registered.
type Schema struct {
	ID          string       `json:"id"`
	Name        string       `json:"name,omitempty"`
	Description string       `json:"description,omitempty"`
	Attributes  []*Attribute `json:"attributes"`
}

// Attribute returns the top-level attribute called name, compared
// case-insensitively, or nil.
func (s *Schema) Attribute(name string) *Attribute {
	return find(s.Attributes, name)
}

// Document returns the representation of s served at /Schemas (RFC 7643 §7),
// ready for encoding/json. baseURL, when not empty, is the service
// provider's base URL and sets meta.location.
func (s *Schema) Document(baseURL string) any {
	return struct {
		Schemas     []string     `json:"schemas"`
		ID          string       `json:"id"`
		Name        string       `json:"name,omitempty"`
		Description string       `json:"description,omitempty"`
		Attributes  []*Attribute `json:"attributes"`
		Meta        documentMeta `json:"meta"`
	}{[]string{SchemaURN}, s.ID, s.Name, s.Description, s.Attributes, newMeta("Schema", baseURL, "/Schemas/"+s.ID)}
}

type documentMeta struct {
	ResourceType string `json:"resourceType"`
	Location     string `json:"location,omitempty"`
}

func newMeta(resourceType, baseURL, path string) documentMeta {
	m := documentMeta{ResourceType: resourceType}
	if baseURL != "" {
		m.Location = strings.TrimSuffix(baseURL, "/") + path
	}
	return m
}

// Parse decodes a schema document in the format of RFC 7643 §7, fills in the
// default characteristics of §2.2 for those it omits, and checks that it is
// well formed: a URN id, valid attribute names unique within their parent,
// known types and characteristics, sub-attributes only on complex attributes
// and never nested deeper than one level.
func Parse(data []byte) (*Schema, error) {
	var s Schema
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	if err := s.normalize(); err != nil {
		return nil, fmt.Errorf("schema %s: %w", s.ID, err)
	}
	return &s, nil
}

func (s *Schema) normalize() error {
	if !strings.HasPrefix(strings.ToLower(s.ID), "urn:") {
		return errors.New("id must be a URN")
	}
	if len(s.Attributes) == 0 {
		return errors.New("no attributes")
	}
	return normalizeAttrs(s.Attributes, false)
}

func normalizeAttrs(attrs []*Attribute, sub bool) error {
	seen := make(map[string]bool, len(attrs))
	for _, a := range attrs {
		if a == nil {
			return errors.New("null attribute")
		}
		if !ValidName(a.Name) {
			return fmt.Errorf("invalid attribute name %q", a.Name)
		}
		key := strings.ToLower(a.Name)
		if seen[key] {
			return fmt.Errorf("attribute %q defined twice", a.Name)
		}
		seen[key] = true
		if a.Type == "" {
			a.Type = String
		}
		if a.Mutability == "" {
			a.Mutability = ReadWrite
		}
		if a.Returned == "" {
			a.Returned = Default
		}
		if a.Uniqueness == "" {
			a.Uniqueness = None
		}
		switch a.Type {
		case String, Boolean, Decimal, Integer, DateTime, Binary, Reference:
			if len(a.SubAttributes) > 0 {
				return fmt.Errorf("attribute %q of type %s has sub-attributes", a.Name, a.Type)
			}
		case Complex:
			if sub {
				return fmt.Errorf("sub-attribute %q is complex", a.Name)
			}
			if len(a.SubAttributes) == 0 {
				return fmt.Errorf("complex attribute %q has no sub-attributes", a.Name)
			}
			if err := normalizeAttrs(a.SubAttributes, true); err != nil {
				return fmt.Errorf("%s: %w", a.Name, err)
			}
		default:
			return fmt.Errorf("attribute %q has unknown type %q", a.Name, a.Type)
		}
		switch a.Mutability {
		case ReadOnly, ReadWrite, Immutable, WriteOnly:
		default:
			return fmt.Errorf("attribute %q has unknown mutability %q", a.Name, a.Mutability)
		}
		switch a.Returned {
		case Always, Never, Default, Request:
		default:
			return fmt.Errorf("attribute %q has unknown returned %q", a.Name, a.Returned)
		}
		switch a.Uniqueness {
		case None, Server, Global:
		default:
			return fmt.Errorf("attribute %q has unknown uniqueness %q", a.Name, a.Uniqueness)
		}
	}
	return nil
}

// ValidName reports whether name is a valid attribute name (RFC 7643 §2.1:
// ALPHA *(nameChar)), also accepting "$ref", which RFC 7643 itself uses.
func ValidName(name string) bool {
	if name == "$ref" {
		return true
	}
	if name == "" || !isAlpha(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
