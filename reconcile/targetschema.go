package reconcile

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster/client"
)

// userCoreSchema is the URN of RFC 7643's core User schema.
const userCoreSchema = "urn:ietf:params:scim:schemas:core:2.0:User"

// TargetSchema is what a target says of its users, read at the start of a
// plan: the schemas of its User resource type and their attributes, so
// that a mapping to an attribute the target lacks fails before anything is
// written rather than once for every user.
type TargetSchema struct {
	// From says where the schema was learnt: "/Schemas", or "one user"
	// when the target serves no /Schemas and one of its users stood in
	// for it (only the schema URNs can then be checked), or "" when
	// neither said anything (nothing is checked).
	From string
	// Schemas are the User resource type's schema URNs: its core schema
	// first, then its extensions.
	Schemas []string
	// Elapsed is how long reading it took.
	Elapsed time.Duration
	// Skipped names the schema documents /Schemas served that could not
	// be read (a field of the wrong type, no id): the mapping's paths into
	// them are not checked, and the plan says so.
	Skipped []string

	attrs map[string]map[string]schemaAttr // lower-case schema URN → lower-case attribute name → attribute
}

// schemaAttr is one attribute of a target schema, as far as a mapping
// needs it.
type schemaAttr struct {
	name   string
	multi  bool
	subs   map[string]bool // lower-case names of a complex attribute's sub-attributes
	filled bool            // subs is known (the schema lists sub-attributes)
}

// schemaDoc is a schema document (RFC 7643 §7) as far as TargetSchema
// reads it.
type schemaDoc struct {
	ID         string `json:"id"`
	Attributes []struct {
		Name          string `json:"name"`
		Type          string `json:"type"`
		MultiValued   bool   `json:"multiValued"`
		SubAttributes []struct {
			Name string `json:"name"`
		} `json:"subAttributes"`
	} `json:"attributes"`
}

// resourceTypeDoc is a resource type (RFC 7643 §6) as far as
// TargetSchema reads it.
type resourceTypeDoc struct {
	Name             string `json:"name"`
	Endpoint         string `json:"endpoint"`
	Schema           string `json:"schema"`
	SchemaExtensions []struct {
		Schema string `json:"schema"`
	} `json:"schemaExtensions"`
}

// LearnTarget reads the target's /ServiceProviderConfig, /ResourceTypes
// and /Schemas, at once, and returns what they say of its users, which
// TargetSchema.Check holds a mapping to; a target that serves no /Schemas
// (404, 405 or 501) has one of its users read instead. A failure to reach
// the target, or any other refusal, is an error: a broken proxy must not
// make the sync check the mapping less.
func (e *Engine) LearnTarget(ctx context.Context) (*TargetSchema, error) {
	start := time.Now()
	var (
		wg              sync.WaitGroup
		types, schemas  []json.RawMessage
		typesErr, scErr error
	)
	// The client remembers the service provider's configuration for the
	// requests to come (its filter, bulk and ETag support); a target that
	// serves none, or a broken one, is taken as supporting none of it,
	// which changes how the sync writes, not what: its error is no reason
	// to stop, and the reads below find an unreachable target.
	wg.Go(func() { _, _ = e.Target.ServiceProviderConfig(ctx) })
	wg.Go(func() { types, typesErr = e.Target.ResourceTypes(ctx) })
	wg.Go(func() { schemas, scErr = e.Target.Schemas(ctx) })
	wg.Wait()
	for _, err := range []error{typesErr, scErr} {
		if err != nil && !notServed(err) {
			return nil, fmt.Errorf("sync: read the target's schemas: %w", err)
		}
	}
	ts := &TargetSchema{attrs: map[string]map[string]schemaAttr{}}
	for i, raw := range schemas {
		var d schemaDoc
		if err := json.Unmarshal(raw, &d); err != nil || d.ID == "" {
			if err == nil {
				err = errors.New("it has no id")
			}
			name := d.ID
			if name == "" {
				name = fmt.Sprintf("number %d", i+1)
			}
			ts.Skipped = append(ts.Skipped, fmt.Sprintf("%s (%v)", name, err))
			continue
		}
		attrs := map[string]schemaAttr{}
		for _, a := range d.Attributes {
			sa := schemaAttr{name: a.Name, multi: a.MultiValued, subs: map[string]bool{}, filled: len(a.SubAttributes) > 0}
			for _, s := range a.SubAttributes {
				sa.subs[strings.ToLower(s.Name)] = true
			}
			attrs[strings.ToLower(a.Name)] = sa
		}
		ts.attrs[strings.ToLower(d.ID)] = attrs
	}
	ts.Schemas = userSchemas(types, ts.attrs)
	if len(ts.attrs) > 0 {
		ts.From = "/Schemas"
	} else {
		// No /Schemas: the schemas one user says it has stand in for them.
		page, err := e.Target.Users.List(ctx, client.Query{Count: 1})
		if err != nil && !notServed(err) {
			return nil, fmt.Errorf("sync: read one target user for its schemas: %w", err)
		}
		if err == nil && len(page.Resources) > 0 {
			raw, _ := json.Marshal(page.Resources[0])
			var u struct {
				Schemas []string `json:"schemas"`
			}
			json.Unmarshal(raw, &u)
			ts.Schemas = u.Schemas
			if !slices.ContainsFunc(ts.Schemas, func(s string) bool { return strings.EqualFold(s, userCoreSchema) }) {
				ts.Schemas = append([]string{userCoreSchema}, ts.Schemas...)
			}
			ts.From = "one user"
		}
	}
	ts.Elapsed = time.Since(start)
	return ts, nil
}

// notServed reports whether err is a target's way of saying it has no
// such endpoint: 404, 405 or 501. Any other answer (a 400 or 401 from a
// broken proxy, say) is an error, not a reason to check the mapping
// less.
func notServed(err error) bool {
	switch client.StatusOf(err) {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	}
	return false
}

// userSchemas returns the User resource type's schemas, core first, from
// the target's resource types; without them, the core User schema and the
// extensions of users among schemas.
func userSchemas(types []json.RawMessage, schemas map[string]map[string]schemaAttr) []string {
	for _, raw := range types {
		var rt resourceTypeDoc
		if json.Unmarshal(raw, &rt) != nil {
			continue
		}
		if strings.EqualFold(rt.Name, "User") || strings.EqualFold(strings.TrimPrefix(rt.Endpoint, "/"), "Users") {
			out := []string{cmp.Or(rt.Schema, userCoreSchema)}
			for _, ext := range rt.SchemaExtensions {
				out = append(out, ext.Schema)
			}
			return out
		}
	}
	out := []string{userCoreSchema}
	for id := range schemas {
		if strings.Contains(id, ":extension:") && strings.HasSuffix(id, ":user") {
			out = append(out, id)
		}
	}
	slices.Sort(out[1:])
	return out
}

// Notes says how the schema was learnt, for the plan: nothing when it
// was read from /Schemas whole, a note for each schema document skipped.
func (ts *TargetSchema) Notes() []string {
	var notes []string
	switch ts.From {
	case "/Schemas":
	case "one user":
		notes = append(notes, "the target serves no /Schemas: the mapping was checked against the schemas one of its users has ("+
			strings.Join(ts.Schemas, ", ")+"), not attribute by attribute")
	default:
		notes = append(notes, "the target serves no /Schemas and has no user yet: the mapping could not be checked against it")
	}
	for _, s := range ts.Skipped {
		notes = append(notes, "the target's /Schemas serves a schema that could not be read, "+s+": the mapping's paths into it were not checked")
	}
	return notes
}

// Check returns an error naming every path of the mapping m the target's
// schema does not have, as a plan does before anything is written (see
// Engine.LearnTarget), each with its line (Mapping.Where).
func (ts *TargetSchema) Check(m Mapping) error {
	cm, err := m.compile()
	if err != nil {
		return err
	}
	return ts.check(cm, m.Where)
}

// check returns an error naming every mapped path the target's schema
// does not have, each with where the mapping says it (where, by path:
// "sync.yaml:14"). A path's schema URN must be one of the User resource
// type's schemas, its attribute one of that schema's, its sub-attribute
// one of the attribute's, and a [type eq "…"] filter needs a multi-valued
// attribute.
func (ts *TargetSchema) check(m *mapping, where map[string]string) error {
	if ts == nil || ts.From == "" {
		return nil
	}
	var problems []string
	for _, mp := range m.users {
		if msg := ts.lacks(mp.path); msg != "" {
			line := mp.path.String()
			if w := lookupWhere(where, line); w != "" {
				line = w + ": mapping " + line
			} else {
				line = "mapping " + line
			}
			problems = append(problems, line+": "+msg)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("sync: the target cannot hold what the mapping writes; nothing was changed:\n  %s", strings.Join(problems, "\n  "))
}

// lookupWhere finds a mapped path in where, whose keys are the paths as
// the configuration spells them.
func lookupWhere(where map[string]string, path string) string {
	if w, ok := where[path]; ok {
		return w
	}
	for k, w := range where {
		if p, err := parseAttrPath(k); err == nil && p.String() == path {
			return w
		}
	}
	return ""
}

// lacks says why the target cannot hold a path, or "" when it can (or
// cannot tell).
func (ts *TargetSchema) lacks(p attrPath) string {
	urn := p.urn
	if urn == "" {
		urn = ts.Schemas[0]
	}
	if !slices.ContainsFunc(ts.Schemas, func(s string) bool { return strings.EqualFold(s, urn) }) {
		return fmt.Sprintf("the target's User resource type has no schema %s (it has %s)", urn, strings.Join(ts.Schemas, ", "))
	}
	if ts.From != "/Schemas" {
		return ""
	}
	attrs, ok := ts.attrs[strings.ToLower(urn)]
	if !ok {
		return "" // a schema the resource type names but /Schemas does not describe
	}
	a, ok := attrs[strings.ToLower(p.attr)]
	if !ok {
		return fmt.Sprintf("the target's schema %s has no attribute %s", urn, p.attr)
	}
	if p.typ != "" && !a.multi {
		return fmt.Sprintf("%s is single-valued in the target's schema %s: it has no [type eq \"%s\"] element", a.name, urn, p.typ)
	}
	if p.sub != "" && a.filled && !a.subs[strings.ToLower(p.sub)] {
		return fmt.Sprintf("the target's schema %s has no sub-attribute %s.%s", urn, a.name, p.sub)
	}
	return ""
}
