package resource

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/schema"
)

// Options control how lenient decoding is.
type Options struct {
	// Strict rejects what the resource type's schemas do not define: a
	// schema URN in "schemas" that is neither the core schema nor one of
	// the type's extensions, attributes and sub-attributes (under such a
	// URN or not), and a "schemas" list that lacks the core schema. By
	// default they are ignored, because real clients send extra fields:
	// Microsoft Entra ID lists an ADSCIM Group schema and the URNs of the
	// custom extensions it was configured with.
	Strict bool
	// Response decodes a service provider's response rather than a
	// client's request: readOnly attributes (id, meta, groups) are kept,
	// required attributes are not enforced (a projection may leave them
	// out), and schema URNs the resource type lacks are ignored.
	Response bool
	// Ignored, if set, is called with each name that decoding ignores
	// because the schemas do not define it: a schema URN from "schemas",
	// an attribute as the client spelled it, or a sub-attribute as
	// attribute.sub. A server uses it to log what a client sent in vain.
	Ignored func(name string)
}

// Ignore reports name to o.Ignored, if set.
func (o Options) Ignore(name string) {
	if o.Ignored != nil {
		o.Ignored(name)
	}
}

// Decode parses a JSON request body (POST or PUT) into a resource of type
// rt and validates it: attribute names are matched case-insensitively,
// URN-qualified names and extension objects are placed in their schema,
// values are checked against (and coerced to) their types, readOnly
// attributes are dropped, required attributes must be present and at most
// one value of a multi-valued attribute may be primary. opts.Response
// relaxes this for a service provider's responses.
//
// Unless opts.Strict is set, schema URNs, attributes and sub-attributes
// that the resource type does not define are ignored (and reported to
// opts.Ignored) rather than refused.
//
// Every error is a *scim.Error with status 400: invalidSyntax for
// malformed JSON, invalidValue for values that do not fit the schema.
func Decode(rt *schema.ResourceType, body []byte, opts Options) (*Resource, error) {
	raw, err := DecodeJSON(body)
	if err != nil {
		return nil, err
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, scim.BadRequest(scim.InvalidSyntax, "request body must be a JSON object")
	}
	r := New(rt)
	if err := decodeSchemas(rt, obj, opts); err != nil {
		return nil, err
	}
	// In sorted order, so that a name given twice (in different case, or
	// as an object and as a dotted sub-attribute) decodes the same way
	// every time; "name" sorts before "name.givenName", which refines it.
	for _, key := range slices.Sorted(maps.Keys(obj)) {
		v := obj[key]
		if strings.EqualFold(key, "schemas") {
			continue
		}
		if ext := rt.Extension(key); ext != nil {
			m, ok := v.(map[string]any)
			if v == nil {
				continue
			}
			if !ok {
				return nil, invalidValue("%s must be an object holding the extension's attributes", ext.Schema.ID)
			}
			for _, name := range slices.Sorted(maps.Keys(m)) {
				sv := m[name]
				ref, err := rt.ResolveParts(ext.Schema.ID, name, "")
				if err := r.decodeInto(ref, err, ext.Schema.ID+":"+name, sv, opts); err != nil {
					return nil, err
				}
			}
			continue
		}
		ref, err := rt.Resolve(key)
		if err := r.decodeInto(ref, err, key, v, opts); err != nil {
			return nil, err
		}
	}
	if opts.Response {
		return r, nil
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeJSON parses a request body into generic JSON values, keeping
// numbers as json.Number so that integers and decimals can be told apart,
// as DecodeValue expects them. Malformed JSON, or anything after the
// value, is a 400 invalidSyntax error.
func DecodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, scim.BadRequest(scim.InvalidSyntax, "request body is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, scim.BadRequest(scim.InvalidSyntax, "request body has data after the JSON value")
	}
	return v, nil
}

func decodeSchemas(rt *schema.ResourceType, obj map[string]any, opts Options) error {
	var list any
	found := false
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if strings.EqualFold(k, "schemas") {
			list, found = obj[k], true
		}
	}
	if !found || list == nil {
		if opts.Strict {
			return invalidValue("\"schemas\" is missing; it must list %s", rt.Schema.ID)
		}
		return nil
	}
	items, ok := list.([]any)
	if !ok {
		return invalidValue("\"schemas\" must be an array of schema URNs")
	}
	hasCore := false
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			return invalidValue("\"schemas\" must be an array of schema URNs")
		}
		switch {
		case strings.EqualFold(s, rt.Schema.ID):
			hasCore = true
		case rt.Extension(s) != nil:
		case opts.Strict && !opts.Response:
			return invalidValue("unknown schema %q for resource type %s (known: %s)", s, rt.Name, strings.Join(rt.SchemaURNs(), ", "))
		default:
			opts.Ignore(s)
		}
	}
	if opts.Strict && !hasCore {
		return invalidValue("\"schemas\" must list %s", rt.Schema.ID)
	}
	return nil
}

// decodeInto stores the value of one input attribute, given the result of
// resolving its name.
func (r *Resource) decodeInto(ref schema.Ref, resolveErr error, name string, v any, opts Options) error {
	if resolveErr != nil {
		if errors.Is(resolveErr, schema.ErrUnknownAttribute) && !opts.Strict {
			opts.Ignore(name)
			return nil
		}
		return invalidValue("%v", resolveErr)
	}
	if ref.Attr == nil { // a bare extension URN: handled by the caller
		return nil
	}
	if !opts.Response && (ref.Attr.Mutability == schema.ReadOnly || ref.Sub != nil && ref.Sub.Mutability == schema.ReadOnly) {
		return nil
	}
	var val any
	if ref.Sub != nil {
		// "name.givenName": a dotted key sets one sub-attribute.
		if ref.Attr.MultiValued {
			return invalidValue("%q: a sub-attribute of the multi-valued %s cannot be set on its own", name, ref.Attr.Name)
		}
		sv, err := DecodeValue(ref.Sub, v, opts)
		if err != nil {
			return err
		}
		m, _ := r.Container(ref, false)[ref.Attr.Name].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		setOrDelete(m, ref.Sub.Name, sv)
		val = m
	} else {
		var err error
		if val, err = DecodeValue(ref.Attr, v, opts); err != nil {
			return err
		}
	}
	c := r.Container(ref, true)
	setOrDelete(c, ref.Attr.Name, val)
	if ref.Extension != "" && len(c) == 0 {
		delete(r.Attrs, ref.Extension)
	}
	return nil
}

// setOrDelete sets m[k] = v, or deletes k when v is unassigned.
func setOrDelete(m map[string]any, k string, v any) {
	if Unassigned(v) {
		delete(m, k)
		return
	}
	m[k] = v
}

// Unassigned reports whether v counts as no value (RFC 7643 §2.5): nil, an
// empty list or an empty object.
func Unassigned(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

func invalidValue(format string, args ...any) error {
	return scim.BadRequest(scim.InvalidValue, format, args...)
}

// DecodeValue checks a value decoded from JSON (with json.Number or
// float64 numbers) against attr and returns it in the package's form. It
// coerces what real clients send: booleans and numbers as strings
// ("False", "42"), a single value for a multi-valued attribute, and a
// plain value for a complex attribute with a "value" sub-attribute (Entra
// sends the manager's id as a string). readOnly sub-attributes are
// dropped unless opts.Response is set. The result is nil when the value is
// unassigned.
func DecodeValue(attr *schema.Attribute, v any, opts Options) (any, error) {
	if v == nil {
		return nil, nil
	}
	if attr.MultiValued {
		items, ok := v.([]any)
		if !ok {
			items = []any{v}
		}
		out := make([]any, 0, len(items))
		for _, it := range items {
			val, err := decodeSingle(attr, it, opts)
			if err != nil {
				return nil, err
			}
			if !Unassigned(val) {
				out = append(out, val)
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	if _, ok := v.([]any); ok {
		return nil, invalidValue("%s is single-valued but got an array", attr.Name)
	}
	return decodeSingle(attr, v, opts)
}

// DecodeElement is DecodeValue for one value of a multi-valued attribute
// (or the value of a single-valued one): an array is an error.
func DecodeElement(attr *schema.Attribute, v any, opts Options) (any, error) {
	if _, ok := v.([]any); ok {
		return nil, invalidValue("%s takes one value here, got an array", attr.Name)
	}
	return decodeSingle(attr, v, opts)
}

func decodeSingle(attr *schema.Attribute, v any, opts Options) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch attr.Type {
	case schema.Complex:
		m, ok := v.(map[string]any)
		if !ok {
			if _, isList := v.([]any); !isList && attr.SubAttribute("value") != nil {
				m = map[string]any{"value": v}
			} else {
				return nil, invalidValue("%s must be an object, got %s", attr.Name, describe(v))
			}
		}
		out := make(map[string]any, len(m))
		// Sorted, like the attributes in Decode; the buffer keeps the
		// usual few keys off the heap.
		var buf [8]string
		keys := buf[:0]
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			sv := m[k]
			sub := attr.SubAttribute(k)
			if sub == nil {
				if opts.Strict {
					return nil, invalidValue("%s has no sub-attribute %q", attr.Name, k)
				}
				opts.Ignore(attr.Name + "." + k)
				continue
			}
			if sub.Mutability == schema.ReadOnly && !opts.Response {
				continue
			}
			val, err := DecodeValue(sub, sv, opts)
			if err != nil {
				return nil, scim.Prefix(attr.Name+".", err)
			}
			setOrDelete(out, sub.Name, val)
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	case schema.Boolean:
		switch v := v.(type) {
		case bool:
			return v, nil
		case string:
			if b, ok := schema.ParseBool(v); ok {
				return b, nil
			}
		}
		return nil, invalidValue("%s must be a boolean, got %s", attr.Name, describe(v))
	case schema.Integer:
		if n, ok := parseInteger(numberText(v)); ok {
			return n, nil
		}
		return nil, invalidValue("%s must be an integer, got %s", attr.Name, describe(v))
	case schema.Decimal:
		if s := numberText(v); s != "" {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return f, nil
			}
		}
		return nil, invalidValue("%s must be a number, got %s", attr.Name, describe(v))
	case schema.DateTime:
		if s, ok := v.(string); ok {
			if _, err := schema.ParseDateTime(s); err == nil {
				return s, nil
			}
		}
		return nil, invalidValue("%s must be a dateTime such as \"2011-05-13T04:42:34Z\", got %s", attr.Name, describe(v))
	case schema.Binary:
		if s, ok := v.(string); ok {
			if _, err := base64.StdEncoding.DecodeString(s); err == nil {
				return s, nil
			}
			if _, err := base64.RawStdEncoding.DecodeString(s); err == nil {
				return s, nil
			}
		}
		return nil, invalidValue("%s must be base64-encoded binary, got %s", attr.Name, describe(v))
	default: // string, reference
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, invalidValue("%s must be a string, got %s", attr.Name, describe(v))
	}
}

// parseInteger parses the text of a JSON number that must be a whole
// number in the int64 range. An exponent is allowed when the value stays
// whole ("1e3", "120e-1"). It is applied to the digits: going through a
// float64 would round "-9223372036854775809" and
// "123456789012345678901e-3" to int64 values they are not.
func parseInteger(s string) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	digits, exp, found := strings.Cut(strings.ToLower(s), "e")
	e, err := strconv.Atoi(exp)
	if !found || err != nil || strings.Contains(digits, ".") {
		return 0, false
	}
	for e < 0 && strings.HasSuffix(digits, "0") {
		digits, e = digits[:len(digits)-1], e+1
	}
	if e < 0 || e > 19 { // a fraction, or more digits than an int64 has
		return 0, false
	}
	n, err := strconv.ParseInt(digits+strings.Repeat("0", e), 10, 64)
	return n, err == nil
}

// numberText returns the text of a JSON number, or of a string holding
// one, or "".
func numberText(v any) string {
	switch v := v.(type) {
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case string:
		s := strings.TrimSpace(v)
		if json.Valid([]byte(s)) && s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') {
			return s
		}
	}
	return ""
}

// describe names the JSON type of v for error messages.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return "the string " + strconv.Quote(v)
	case bool:
		return "the boolean " + strconv.FormatBool(v)
	case json.Number, float64, int64, int:
		return fmt.Sprintf("the number %v", v)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}
