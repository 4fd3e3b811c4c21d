package resource

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/rosterhq/roster/scim/schema"
)

// MarshalJSON encodes r with the default projection.
func (r *Resource) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(nil, nil), nil
}

// AppendJSON appends the JSON representation of r to dst, holding the
// attributes p includes, in schema order: schemas, id, externalId, the core
// attributes, the extensions, then meta. Attributes returned "never"
// (password) are never written.
func (r *Resource) AppendJSON(dst []byte, p *Projection) []byte {
	dst = append(dst, `{"schemas":[`...)
	dst = appendString(dst, r.Type.Schema.ID)
	for _, e := range r.Type.Extensions {
		if r.extensionProjected(e.Schema, p) {
			dst = append(dst, ',')
			dst = appendString(dst, e.Schema.ID)
		}
	}
	dst = append(dst, ']')
	common := schema.CommonAttributes()
	var meta *schema.Attribute
	for _, a := range common {
		if a.Name == "meta" {
			meta = a
			continue
		}
		dst = appendAttr(dst, r.Attrs, schema.Ref{Attr: a}, p)
	}
	for _, a := range r.Type.Schema.Attributes {
		dst = appendAttr(dst, r.Attrs, schema.Ref{Attr: a}, p)
	}
	for _, e := range r.Type.Extensions {
		if !r.extensionProjected(e.Schema, p) {
			continue
		}
		m := r.Attrs[e.Schema.ID].(map[string]any)
		dst = append(dst, ',')
		dst = appendString(dst, e.Schema.ID)
		dst = append(dst, ':')
		open := len(dst)
		for _, a := range e.Schema.Attributes {
			dst = appendAttr(dst, m, schema.Ref{Extension: e.Schema.ID, Attr: a}, p)
		}
		dst[open] = '{' // over the comma appendAttr wrote before the first attribute
		dst = append(dst, '}')
	}
	if meta != nil {
		dst = appendAttr(dst, r.Attrs, schema.Ref{Attr: meta}, p)
	}
	return append(dst, '}')
}

// extensionProjected reports whether the resource has a value for an
// attribute of extension s that p includes.
func (r *Resource) extensionProjected(s *schema.Schema, p *Projection) bool {
	m, _ := r.Attrs[s.ID].(map[string]any)
	for _, a := range s.Attributes {
		ref := schema.Ref{Extension: s.ID, Attr: a}
		if v, ok := m[a.Name]; ok && p.Includes(ref) && (a.Type != schema.Complex || anyHasSub(v, projectedSubs(ref, p))) {
			return true
		}
	}
	return false
}

// projectedSubs returns the sub-attributes of ref's complex attribute
// that p includes, computed once per attribute rather than per value.
func projectedSubs(ref schema.Ref, p *Projection) []*schema.Attribute {
	subs := make([]*schema.Attribute, 0, len(ref.Attr.SubAttributes))
	for _, s := range ref.Attr.SubAttributes {
		if p.Includes(schema.Ref{Extension: ref.Extension, Attr: ref.Attr, Sub: s}) {
			subs = append(subs, s)
		}
	}
	return subs
}

// hasSub reports whether the complex value v has one of subs, so that a
// projection such as attributes=name.middleName never leaves an empty
// "name":{} behind.
func hasSub(v any, subs []*schema.Attribute) bool {
	m, _ := v.(map[string]any)
	for _, s := range subs {
		if _, ok := m[s.Name]; ok {
			return true
		}
	}
	return false
}

// anyHasSub is hasSub for a complex value or any element of a list of them.
func anyHasSub(v any, subs []*schema.Attribute) bool {
	if list, ok := v.([]any); ok {
		return slices.ContainsFunc(list, func(el any) bool { return hasSub(el, subs) })
	}
	return hasSub(v, subs)
}

// appendAttr appends `,"name":value` for the attribute ref names in m if it
// has a value and the projection includes it. Complex values with nothing
// projected are left out.
func appendAttr(dst []byte, m map[string]any, ref schema.Ref, p *Projection) []byte {
	v, ok := m[ref.Attr.Name]
	if !ok || !p.Includes(ref) {
		return dst
	}
	var subs []*schema.Attribute
	if ref.Attr.Type == schema.Complex {
		if subs = projectedSubs(ref, p); !anyHasSub(v, subs) {
			return dst
		}
	}
	dst = append(dst, ',')
	dst = appendString(dst, ref.Attr.Name)
	dst = append(dst, ':')
	if ref.Attr.Type != schema.Complex {
		return appendValue(dst, v)
	}
	list, ok := v.([]any)
	if !ok {
		return appendComplex(dst, v, subs)
	}
	dst = append(dst, '[')
	first := true
	for _, el := range list {
		if !hasSub(el, subs) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendComplex(dst, el, subs)
	}
	return append(dst, ']')
}

// appendComplex appends the sub-attributes subs of the complex value v.
func appendComplex(dst []byte, v any, subs []*schema.Attribute) []byte {
	m, _ := v.(map[string]any)
	dst = append(dst, '{')
	first := true
	for _, s := range subs {
		sv, ok := m[s.Name]
		if !ok {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, s.Name)
		dst = append(dst, ':')
		dst = appendValue(dst, sv)
	}
	return append(dst, '}')
}

// appendValue appends a value of the package's form as JSON.
func appendValue(dst []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendString(dst, v)
	case bool:
		return strconv.AppendBool(dst, v)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case float64:
		return appendFloat(dst, v)
	case []any:
		dst = append(dst, '[')
		for i, el := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, el)
		}
		return append(dst, ']')
	case map[string]any:
		// Only reached for values outside the schema; keep them valid JSON.
		dst = append(dst, '{')
		first := true
		for k, el := range v {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendString(dst, k)
			dst = append(dst, ':')
			dst = appendValue(dst, el)
		}
		return append(dst, '}')
	}
	return append(dst, "null"...)
}

// appendFloat formats like encoding/json: plain notation unless the
// exponent is very large or small.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// "1e-07" to "1e-7", as encoding/json writes it.
		n := len(dst)
		if dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string, escaping like encoding/json with
// HTML escaping off: API clients get "R&D", not "R\u0026D".
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
