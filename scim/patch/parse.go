package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
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

// Operation is one operation of a PATCH request.
type Operation struct {
	Op Op
	// Path is the operation's target, resolved against the resource type;
	// nil when the operation has no path.
	Path *filter.Path
	// Value is the operation's value as decoded from JSON, with numbers as
	// json.Number; nil when absent or null. Apply checks it against the
	// schema. A replace with a null value unassigns the attribute; an add
	// of null changes nothing.
	Value any
}

// Request is a parsed PATCH request.
type Request struct {
	Type       *schema.ResourceType
	Operations []Operation
	opts       resource.Options
}

// Parse parses a PATCH request body for a resource of type rt. Field names
// and op values are matched case-insensitively. An empty Operations list
// is a valid request that changes nothing. With opts.Strict unset, an
// operation whose path names an attribute rt does not define is dropped,
// as unknown attributes are when decoding a resource.
//
// Errors are *scim.Error with status 400: invalidSyntax for a malformed
// body or operation, invalidPath for a bad path, noTarget for a remove
// without a path, invalidValue for an add or replace without a value.
func Parse(rt *schema.ResourceType, body []byte, opts resource.Options) (*Request, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, scim.BadRequest(scim.InvalidSyntax, "PATCH body is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, scim.BadRequest(scim.InvalidSyntax, "PATCH body has data after the JSON value")
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
		op, keep, err := parseOperation(rt, it, opts)
		if err != nil {
			return nil, scim.Prefix("Operations["+strconv.Itoa(i)+"]: ", err)
		}
		if keep {
			req.Operations = append(req.Operations, op)
		}
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

func parseOperation(rt *schema.ResourceType, v any, opts resource.Options) (op Operation, keep bool, err error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return op, false, scim.BadRequest(scim.InvalidSyntax, "must be an object with \"op\", \"path\" and \"value\"")
	}
	name, _ := field(obj, "op").(string)
	switch Op(strings.ToLower(name)) {
	case Add, Replace, Remove:
		op.Op = Op(strings.ToLower(name))
	default:
		return op, false, scim.BadRequest(scim.InvalidSyntax, "\"op\" must be add, replace or remove, not %q", name)
	}
	var hasValue bool
	op.Value, hasValue = fieldOK(obj, "value")
	if pv, ok := fieldOK(obj, "path"); ok && pv != nil {
		s, ok := pv.(string)
		if !ok {
			return op, false, scim.BadRequest(scim.InvalidPath, "\"path\" must be a string")
		}
		if strings.TrimSpace(s) != "" {
			p, err := filter.ParsePath(s, rt)
			if err != nil {
				if errors.Is(err, schema.ErrUnknownAttribute) && !opts.Strict {
					return op, false, nil
				}
				return op, false, err
			}
			op.Path = p
		}
	}
	switch {
	case op.Op == Remove && op.Path == nil:
		return op, false, scim.BadRequest(scim.NoTarget, "remove needs a \"path\"")
	case op.Op != Remove && !hasValue:
		return op, false, scim.BadRequest(scim.InvalidValue, "%s needs a \"value\"", op.Op)
	case op.Op != Remove && op.Path == nil:
		if _, ok := op.Value.(map[string]any); !ok {
			return op, false, scim.BadRequest(scim.InvalidValue, "%s without a \"path\" needs an object of attributes as its \"value\"", op.Op)
		}
	}
	return op, true, nil
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
