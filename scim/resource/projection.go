package resource

import (
	"errors"
	"strings"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
)

// Projection selects the attributes a response returns, from the
// attributes and excludedAttributes query parameters (RFC 7644 §3.4.2.5)
// and each attribute's "returned" characteristic. The zero Projection (and
// a nil *Projection) returns the default set.
type Projection struct {
	include map[string]bool // canonical lower-case paths asked for
	parents map[string]bool // attributes with a sub-attribute asked for
	exclude map[string]bool
}

// NewProjection builds a projection for rt from the attributes and
// excludedAttributes lists (each element one attribute path, or a
// comma-separated list of them). Names may be URN-qualified, name
// sub-attributes (name.givenName) or a whole extension by its URN. Names
// rt does not define are ignored, as most servers do; a malformed name is
// a 400 invalidValue error.
func NewProjection(rt *schema.ResourceType, attributes, excludedAttributes []string) (*Projection, error) {
	p := &Projection{}
	var err error
	if p.include, p.parents, err = refSet(rt, attributes); err != nil {
		return nil, err
	}
	if p.exclude, _, err = refSet(rt, excludedAttributes); err != nil {
		return nil, err
	}
	return p, nil
}

func refSet(rt *schema.ResourceType, lists []string) (set, parents map[string]bool, err error) {
	for _, list := range lists {
		for _, name := range strings.Split(list, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if set == nil {
				// Names were given: even if none is known, the response
				// holds only what is returned always.
				set, parents = map[string]bool{}, map[string]bool{}
			}
			ref, err := rt.Resolve(name)
			if err != nil {
				if errors.Is(err, schema.ErrUnknownAttribute) {
					continue
				}
				return nil, nil, scim.BadRequest(scim.InvalidValue, "invalid attribute name %q: %v", name, err)
			}
			set[key(ref)] = true
			if ref.Sub != nil {
				parents[key(schema.Ref{Extension: ref.Extension, Attr: ref.Attr})] = true
			}
		}
	}
	return set, parents, nil
}

func key(ref schema.Ref) string { return strings.ToLower(ref.String()) }

// Includes reports whether the attribute (or sub-attribute) ref names is
// returned.
func (p *Projection) Includes(ref schema.Ref) bool {
	a := ref.Leaf()
	switch a.Returned {
	case schema.Never:
		return false
	case schema.Always:
		return true
	}
	if ref.Sub != nil && ref.Attr.Returned == schema.Never {
		return false
	}
	parent := schema.Ref{Extension: ref.Extension, Attr: ref.Attr}
	if p != nil && p.include != nil {
		k := key(ref)
		asked := p.include[k] || ref.Extension != "" && p.include[strings.ToLower(ref.Extension)]
		if ref.Sub != nil {
			asked = asked || p.include[key(parent)]
		} else {
			asked = asked || p.parents[k]
		}
		if !asked {
			return false
		}
	} else if a.Returned == schema.Request || ref.Sub != nil && ref.Attr.Returned == schema.Request {
		return false
	}
	if p != nil && p.exclude != nil {
		if p.exclude[key(ref)] || ref.Extension != "" && p.exclude[strings.ToLower(ref.Extension)] {
			return false
		}
		if ref.Sub != nil && p.exclude[key(parent)] {
			return false
		}
	}
	return true
}
