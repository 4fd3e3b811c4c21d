package patch

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

// Op is a PATCH operation kind, in lower case.
type Op string

// The PATCH operations of RFC 7644 §3.5.2.
const (
	Add     Op = "add"
	Replace Op = "replace"
	Remove  Op = "remove"
)

// Operation is one operation of a PATCH request, normalized by Parse so
// that a store can act on it (say, on a membership table) without loading
// the resource.
type Operation struct {
	Op Op
	// Path is the target, resolved against the resource type. Parse turns a
	// path-less add or replace, and one whose path is a bare extension URN,
	// into one operation per attribute named in its value, so Path is never
	// nil. Path.Attr.Ref.Attr is nil only for the remove of a whole
	// extension.
	Path *filter.Path
	// Value is checked against the schema and in the form of package
	// resource: the attribute's value (a []any for a multi-valued one); one
	// complex value when Path has a value filter and no sub-attribute; the
	// sub-attribute's value when Path names one. For a remove, Value is set
	// only when it lists values of a multi-valued attribute to take out
	// (Entra's members remove). nil when absent or null: a replace with
	// null unassigns, an add of null changes nothing.
	Value any

	checked bool // made by Parse, so Apply need not check it again
	source  int  // the position in the request's Operations it came from
}

// Request is a parsed PATCH request.
type Request struct {
	Type       *schema.ResourceType
	Operations []Operation
	opts       resource.Options
}

// Parse parses a PATCH request body for a resource of type rt and checks
// each operation against the schema. Field names and op values are matched
// case-insensitively. An empty Operations list is a valid request that
// changes nothing.
//
// Attributes rt does not define are dropped unless opts.Strict is set, as
// when decoding a resource; readOnly attributes inside a path-less value
// are dropped too (Okta sends the group's id along with its new name),
// while a path naming one is a mutability error.
//
// Errors are *scim.Error with status 400: invalidSyntax for a malformed
// body or operation, invalidPath for a bad path, noTarget for a remove
// without a path, invalidValue for a missing or ill-typed value,
// mutability for a readOnly target.
func Parse(rt *schema.ResourceType, body []byte, opts resource.Options) (*Request, error) {
	raw, err := resource.DecodeJSON(body)
	if err != nil {
		return nil, err
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, scim.BadRequest(scim.InvalidSyntax, "PATCH body must be a JSON object")
	}
	if err := checkSchemas(field(obj, "schemas"), opts); err != nil {
		return nil, err
	}
	opsRaw, found := fieldOK(obj, "Operations")
	if !found {
		return nil, scim.BadRequest(scim.InvalidSyntax, "PATCH body has no \"Operations\"")
	}
	list, ok := opsRaw.([]any)
	if !ok {
		return nil, scim.BadRequest(scim.InvalidSyntax, "\"Operations\" must be an array")
	}
	req := &Request{Type: rt, opts: opts, Operations: make([]Operation, 0, len(list))}
	for i, it := range list {
		ops, err := parseOperation(rt, it, opts)
		if err != nil {
			return nil, scim.Prefix("Operations["+strconv.Itoa(i)+"]: ", err)
		}
		for j := range ops {
			ops[j].source = i
		}
		req.Operations = append(req.Operations, ops...)
	}
	return req, nil
}

func checkSchemas(v any, opts resource.Options) error {
	if v == nil {
		if opts.Strict {
			return scim.BadRequest(scim.InvalidSyntax, "PATCH body must have \"schemas\": [%q]", scim.PatchOpURN)
		}
		return nil
	}
	list, _ := v.([]any)
	for _, s := range list {
		if s, ok := s.(string); ok && strings.EqualFold(s, scim.PatchOpURN) {
			return nil
		}
	}
	return scim.BadRequest(scim.InvalidSyntax, "PATCH body's \"schemas\" must be [%q]", scim.PatchOpURN)
}

// parseOperation parses one element of Operations into the operations it
// stands for: none when its target is an unknown attribute being ignored,
// several for a path-less value naming several attributes.
func parseOperation(rt *schema.ResourceType, v any, opts resource.Options) ([]Operation, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, scim.BadRequest(scim.InvalidSyntax, "must be an object with \"op\", \"path\" and \"value\"")
	}
	name, _ := field(obj, "op").(string)
	op := Op(strings.ToLower(name))
	if op != Add && op != Replace && op != Remove {
		return nil, scim.BadRequest(scim.InvalidSyntax, "\"op\" must be add, replace or remove, not %q", name)
	}
	value, hasValue := fieldOK(obj, "value")
	var path *filter.Path
	if pv, ok := fieldOK(obj, "path"); ok && pv != nil {
		s, ok := pv.(string)
		if !ok {
			return nil, scim.BadRequest(scim.InvalidPath, "\"path\" must be a string")
		}
		if strings.TrimSpace(s) != "" {
			p, err := filter.ParsePath(s, rt)
			if err != nil {
				if errors.Is(err, schema.ErrUnknownAttribute) && !opts.Strict {
					opts.Ignore(s)
					return nil, nil
				}
				return nil, err
			}
			path = p
		}
	}
	switch {
	case op == Remove && path == nil:
		return nil, scim.BadRequest(scim.NoTarget, "remove needs a \"path\"")
	case op != Remove && !hasValue:
		return nil, scim.BadRequest(scim.InvalidValue, "%s needs a \"value\"", op)
	case op != Remove && (path == nil || path.Attr.Ref.Attr == nil):
		// RFC 7644 §3.5.2.1: no path, so the value is an object of
		// attributes, whose names may be dotted or URN-qualified (Entra).
		attrs, ok := value.(map[string]any)
		if !ok {
			return nil, scim.BadRequest(scim.InvalidValue, "%s without an attribute path needs an object of attributes as its \"value\"", op)
		}
		urn := ""
		if path != nil {
			urn = path.Attr.Ref.Extension
		}
		return expand(rt, op, urn, attrs, opts)
	}
	o, err := check(Operation{Op: op, Path: path, Value: value}, opts)
	if err != nil {
		return nil, err
	}
	return []Operation{o}, nil
}

// expand turns the object of attributes of a path-less operation (urn
// empty) or of an extension (urn set) into one operation per attribute,
// in name order.
func expand(rt *schema.ResourceType, op Op, urn string, attrs map[string]any, opts resource.Options) ([]Operation, error) {
	var out []Operation
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		var ref schema.Ref
		var err error
		switch {
		case urn == "" && strings.EqualFold(k, "schemas"):
			continue
		case urn == "" && strings.ContainsRune(k, '['):
			// A value filter as a key: {"emails[type eq \"work\"].value": "x"}.
			p, err := filter.ParsePath(k, rt)
			if err != nil {
				if !opts.Strict && errors.Is(err, schema.ErrUnknownAttribute) {
					opts.Ignore(k)
					continue
				}
				return nil, err
			}
			o, err := check(Operation{Op: op, Path: p, Value: attrs[k]}, opts)
			if err != nil {
				return nil, err
			}
			out = append(out, o)
			continue
		case urn == "":
			ref, err = rt.Resolve(k)
		default:
			name, sub, _ := strings.Cut(k, ".")
			ref, err = rt.ResolveParts(urn, name, sub)
		}
		if err != nil {
			if opts.Strict || !errors.Is(err, schema.ErrUnknownAttribute) {
				return nil, scim.BadRequest(scim.InvalidValue, "%v", err)
			}
			if urn != "" {
				k = urn + ":" + k
			}
			opts.Ignore(k)
			continue
		}
		if ref.Attr == nil { // an extension object inside a path-less value
			m, ok := attrs[k].(map[string]any)
			if !ok {
				if attrs[k] == nil {
					continue
				}
				return nil, scim.BadRequest(scim.InvalidValue, "%s must be an object of the extension's attributes", ref.Extension)
			}
			ops, err := expand(rt, op, ref.Extension, m, opts)
			if err != nil {
				return nil, err
			}
			out = append(out, ops...)
			continue
		}
		if readOnly(ref) {
			continue
		}
		o, err := check(Operation{Op: op, Path: pathOf(ref), Value: attrs[k]}, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// pathOf returns the path naming ref.
func pathOf(ref schema.Ref) *filter.Path {
	p := &filter.Path{Attr: filter.AttrPath{URN: ref.Extension, Ref: ref}}
	if ref.Attr != nil {
		p.Attr.Name = ref.Attr.Name
	}
	if ref.Sub != nil {
		p.Attr.Sub = ref.Sub.Name
	}
	return p
}

func readOnly(ref schema.Ref) bool {
	return ref.Attr.Mutability == schema.ReadOnly || ref.Sub != nil && ref.Sub.Mutability == schema.ReadOnly
}

// check checks an operation with a resolved path against the schema and
// decodes its value into the form Operation.Value documents.
func check(o Operation, opts resource.Options) (Operation, error) {
	o.Op = Op(strings.ToLower(string(o.Op)))
	if o.Op != Add && o.Op != Replace && o.Op != Remove {
		return o, scim.BadRequest(scim.InvalidSyntax, "\"op\" must be add, replace or remove, not %q", o.Op)
	}
	if o.Path == nil || o.Path.Attr.Ref.Attr == nil && (o.Path.Attr.Ref.Extension == "" || o.Op != Remove) {
		return o, scim.BadRequest(scim.InvalidPath, "the operation has no resolved attribute path; build it with Parse")
	}
	if o.Path.Filter != nil && (o.Path.Attr.Ref.Attr == nil || o.Path.Attr.Ref.Attr.Type != schema.Complex) {
		return o, scim.BadRequest(scim.InvalidPath, "%s cannot take a value filter", o.Path.Attr.Ref)
	}
	o.checked = true
	ref, f := o.Path.Attr.Ref, o.Path.Filter
	if ref.Attr == nil {
		o.Value = nil
		return o, nil
	}
	if readOnly(ref) {
		return o, scim.BadRequest(scim.Mutability, "%s is readOnly", ref)
	}
	var err error
	switch {
	case o.Op == Remove:
		raw := o.Value
		o.Value = nil
		if f == nil && ref.Sub == nil && ref.Attr.MultiValued && raw != nil {
			// The values to take out (Entra's members remove). Nothing
			// usable in a value that was given must not mean "remove all".
			if o.Value, err = resource.DecodeValue(ref.Attr, raw, opts); err == nil && o.Value == nil {
				if list, ok := raw.([]any); !ok || len(list) > 0 {
					return o, scim.BadRequest(scim.InvalidValue, "remove of %s lists no values to remove", ref)
				}
				o.Value = []any{}
			}
		}
	case ref.Sub != nil:
		// Of one complex value, of the values a filter selects, or of
		// every value (emails.value): the value is the sub-attribute's.
		o.Value, err = resource.DecodeValue(ref.Sub, o.Value, opts)
	case f != nil:
		o.Value, err = resource.DecodeElement(ref.Attr, o.Value, opts)
	default:
		o.Value, err = resource.DecodeValue(ref.Attr, o.Value, opts)
	}
	return o, err
}

// field returns obj's member called name, compared case-insensitively.
func field(obj map[string]any, name string) any {
	v, _ := fieldOK(obj, name)
	return v
}

func fieldOK(obj map[string]any, name string) (any, bool) {
	if v, ok := obj[name]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}
