package resource

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rosterhq/roster/scim/schema"
)

// DecodeStored reads a resource's attributes as a store keeps them: the
// JSON encoding/json wrote of a Resource's Attrs, with canonical names
// and values in the package's form. It returns what Decode with
// Options{Response: true} returns for the same body, in one pass and
// without encoding/json's generic values: a store reads a resource on
// every GET, and the full decoder's work (names matched without regard to
// case, values coerced) is spent on what is already canonical. Anything
// it does not expect of a stored body (a name in another case, a value of
// another type, a null, odd whitespace or escapes it cannot read) it hands
// to Decode, so that any body decodes exactly as Decode would.
func DecodeStored(rt *schema.ResourceType, body []byte) (*Resource, error) {
	p := storedParser{data: body}
	r := New(rt)
	if p.attributes(rt, r.Attrs) && p.end() {
		return r, nil
	}
	return Decode(rt, body, Options{Response: true})
}

// storedParser reads JSON from data at pos; each method reports whether
// what it read is what a stored body holds (false: fall back to Decode).
type storedParser struct {
	data []byte
	pos  int
}

func (p *storedParser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// byte consumes c, after any space.
func (p *storedParser) byte(c byte) bool {
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

// peek returns the next byte after any space, or 0 at the end.
func (p *storedParser) peek() byte {
	p.space()
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

// end reports whether nothing but space is left.
func (p *storedParser) end() bool {
	p.space()
	return p.pos == len(p.data)
}

// object reads an object, calling member for each name with the parser
// at its value, which member reads.
func (p *storedParser) object(member func(name string) bool) bool {
	if !p.byte('{') {
		return false
	}
	if p.byte('}') {
		return true
	}
	for {
		name, ok := p.string()
		if !ok || !p.byte(':') || !member(name) {
			return false
		}
		if p.byte('}') {
			return true
		}
		if !p.byte(',') {
			return false
		}
	}
}

// attributes reads the top-level object: core and common attributes
// under their canonical names, extensions under their URNs.
func (p *storedParser) attributes(rt *schema.ResourceType, attrs map[string]any) bool {
	seen := map[string]bool{}
	return p.object(func(name string) bool {
		if seen[name] {
			return false // a name given twice: Decode's rules decide which wins
		}
		seen[name] = true
		if ext := rt.Extension(name); ext != nil && ext.Schema.ID == name {
			m := map[string]any{}
			ok := p.object(func(name string) bool {
				a := ext.Schema.Attribute(name)
				if a == nil || a.Name != name || m[name] != nil {
					return false
				}
				v, ok := p.value(a)
				m[name] = v
				return ok
			})
			if !ok || len(m) == 0 {
				return false
			}
			attrs[name] = m
			return true
		}
		a := rt.Schema.Attribute(name)
		if a == nil {
			a = commonAttribute(name)
		}
		if a == nil || a.Name != name || name == "id" || name == "meta" {
			return false
		}
		v, ok := p.value(a)
		attrs[name] = v
		return ok
	})
}

// commonAttribute returns the common attribute (RFC 7643 §3.1) named
// name, or nil.
func commonAttribute(name string) *schema.Attribute {
	for _, a := range schema.CommonAttributes() {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// value reads a value of attr.
func (p *storedParser) value(attr *schema.Attribute) (any, bool) {
	if !attr.MultiValued {
		return p.single(attr)
	}
	if !p.byte('[') || p.byte(']') {
		return nil, false // an empty list is stored as no attribute
	}
	var out []any
	for {
		v, ok := p.single(attr)
		if !ok {
			return nil, false
		}
		out = append(out, v)
		if p.byte(']') {
			return out, true
		}
		if !p.byte(',') {
			return nil, false
		}
	}
}

// single reads one value of attr (of a multi-valued one, an element).
func (p *storedParser) single(attr *schema.Attribute) (any, bool) {
	switch attr.Type {
	case schema.Complex:
		m := map[string]any{}
		ok := p.object(func(name string) bool {
			sub := attr.SubAttribute(name)
			if sub == nil || sub.Name != name || m[name] != nil {
				return false
			}
			v, ok := p.value(sub)
			m[name] = v
			return ok
		})
		return m, ok && len(m) > 0
	case schema.Boolean:
		for _, lit := range []struct {
			text string
			v    bool
		}{{"true", true}, {"false", false}} {
			p.space()
			if len(p.data)-p.pos >= len(lit.text) && string(p.data[p.pos:p.pos+len(lit.text)]) == lit.text {
				p.pos += len(lit.text)
				return lit.v, true
			}
		}
		return nil, false
	case schema.Integer:
		text, ok := p.number()
		if !ok {
			return nil, false
		}
		n, err := strconv.ParseInt(text, 10, 64)
		return n, err == nil
	case schema.Decimal:
		text, ok := p.number()
		if !ok {
			return nil, false
		}
		f, err := strconv.ParseFloat(text, 64)
		return f, err == nil
	case schema.String, schema.Reference:
		return p.string()
	}
	return nil, false // dateTime and binary: Decode checks their form
}

// number reads a JSON number and returns its text.
func (p *storedParser) number() (string, bool) {
	p.space()
	start, d := p.pos, p.data
	digits := func() bool {
		from := p.pos
		for p.pos < len(d) && d[p.pos] >= '0' && d[p.pos] <= '9' {
			p.pos++
		}
		return p.pos > from
	}
	if p.pos < len(d) && d[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(d) && d[p.pos] == '0' {
		p.pos++
	} else if !digits() {
		return "", false
	}
	if p.pos < len(d) && d[p.pos] == '.' {
		p.pos++
		if !digits() {
			return "", false
		}
	}
	if p.pos < len(d) && (d[p.pos] == 'e' || d[p.pos] == 'E') {
		p.pos++
		if p.pos < len(d) && (d[p.pos] == '+' || d[p.pos] == '-') {
			p.pos++
		}
		if !digits() {
			return "", false
		}
	}
	return string(d[start:p.pos]), true
}

// string reads a JSON string: valid UTF-8, escapes resolved as
// encoding/json resolves them.
func (p *storedParser) string() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	d := p.data
	start := p.pos
	// Most stored strings have no escapes: one scan, one copy.
	for i := start; i < len(d); i++ {
		switch c := d[i]; {
		case c == '"':
			s := d[start:i]
			if !utf8.Valid(s) {
				return "", false
			}
			p.pos = i + 1
			return string(s), true
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return "", false
		}
	}
	return "", false
}

// escaped reads the rest of a string that holds escapes, from start.
func (p *storedParser) escaped(start int) (string, bool) {
	d := p.data
	out := make([]byte, 0, len(d)-start)
	for i := start; i < len(d); {
		c := d[i]
		switch {
		case c == '"':
			if !utf8.Valid(out) {
				return "", false
			}
			p.pos = i + 1
			return string(out), true
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(d) {
			return "", false
		}
		switch e := d[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := unicodeEscape(d[i:])
			if n == 0 {
				return "", false
			}
			out = utf8.AppendRune(out, r)
			i += n
			continue
		default:
			return "", false
		}
		i += 2
	}
	return "", false
}

// unicodeEscape reads \uXXXX (and its low surrogate, if it is a high
// one) at the start of b, returning the rune and how many bytes it took;
// 0 if it is malformed. A lone surrogate is U+FFFD, as encoding/json
// reads it.
func unicodeEscape(b []byte) (rune, int) {
	hex := func(b []byte) (rune, bool) {
		if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(b[2:6]), 16, 32)
		return rune(n), err == nil
	}
	r, ok := hex(b)
	if !ok {
		return 0, 0
	}
	if utf16.IsSurrogate(r) {
		if lo, ok := hex(b[6:]); ok {
			if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
				return dec, 12
			}
		}
		return utf8.RuneError, 6
	}
	return r, 6
}

// AppendStoredAttrs appends attrs, a resource's attributes in the
// package's form, as the JSON object DecodeStored reads: what
// encoding/json writes of them (names sorted at every level), but for
// '<', '>' and '&', which it leaves unescaped. ok is false, and dst
// unchanged, if a value is not in the package's form (string, bool,
// int64, float64 other than NaN or infinite, []any, map[string]any);
// encoding/json is then the one to ask.
func AppendStoredAttrs(dst []byte, attrs map[string]any) (out []byte, ok bool) {
	start := len(dst)
	if dst, ok = appendStoredValue(dst, attrs); !ok {
		return dst[:start], false
	}
	return dst, true
}

func appendStoredValue(dst []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case string:
		return appendString(dst, v), true
	case bool:
		return strconv.AppendBool(dst, v), true
	case int64:
		return strconv.AppendInt(dst, v, 10), true
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return dst, false
		}
		return appendFloat(dst, v), true
	case []any:
		dst = append(dst, '[')
		for i, el := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendStoredValue(dst, el); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	case map[string]any:
		var buf [16]string
		keys := buf[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = appendStoredValue(dst, v[k]); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	}
	return dst, false
}
