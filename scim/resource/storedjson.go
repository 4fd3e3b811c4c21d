package resource

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/rosterhq/roster/scim/schema"
)

// Stored is a resource as a store keeps it: its id and metadata, and its
// attributes still as the JSON DecodeStored reads. An answer that shows
// the attributes as they are is written from it without decoding them
// into Attrs and encoding them again (AppendJSON).
type Stored struct {
	Type  *schema.ResourceType
	ID    string
	Meta  Meta
	Attrs []byte
	// Computed holds the attributes a store computes rather than keeps
	// (a group's members, a user's groups), in the package's form, when
	// they were read.
	Computed map[string]any
}

// Decode returns the resource: its attributes decoded, with the computed
// ones (members and groups stored by mistake are dropped), its id and
// meta set.
func (s *Stored) Decode() (*Resource, error) {
	r, err := DecodeStored(s.Type, s.Attrs)
	if err != nil {
		return nil, err
	}
	// What a store computes comes from Computed alone, never from a
	// stored value of the same name.
	delete(r.Attrs, "members")
	delete(r.Attrs, "groups")
	for k, v := range s.Computed {
		r.Attrs[k] = v
	}
	r.SetID(s.ID)
	r.SetMeta(s.Meta)
	return r, nil
}

// AppendJSON appends the resource's JSON to dst: the same bytes that
// (*Resource).AppendJSON(dst, p) appends for s.Decode() with its
// meta.location set to location, but read straight from the stored
// JSON. ok is false, and dst unchanged, when it cannot vouch for that:
// the stored JSON holds what DecodeStored would hand to Decode, or the
// projection keeps only some sub-attributes of a complex attribute. The
// caller then decodes.
func (s *Stored) AppendJSON(dst []byte, p *Projection, location string) (out []byte, ok bool) {
	rt := s.Type
	for _, a := range rt.Schema.Attributes {
		switch a.Name {
		case "schemas", "id", "externalId", "meta":
			return dst, false // written twice by AppendJSON: not worth matching
		}
	}
	// Where each attribute's value lies: on the stack for the usual types.
	var coreBuf [48]span
	var extBuf [4]span
	core, exts := coreBuf[:], extBuf[:]
	if n := len(rt.Schema.Attributes); n <= len(core) {
		core = core[:n]
	} else {
		core = make([]span, n)
	}
	if n := len(rt.Extensions); n <= len(exts) {
		exts = exts[:n]
	} else {
		exts = make([]span, n)
	}
	var externalID span
	t := transcoder{storedParser: storedParser{data: s.Attrs}}
	ok = t.object(func(name []byte) bool { return t.skipTo(name, rt, core, exts, &externalID) })
	if !ok || !t.end() {
		return dst, false
	}
	start := len(dst)
	fail := func() ([]byte, bool) { return dst[:start], false }

	dst = append(dst, `{"schemas":[`...)
	dst = appendString(dst, rt.Schema.ID)
	// An extension shows when one of its attributes does.
	var shown [8]bool
	if len(rt.Extensions) > len(shown) {
		return fail()
	}
	for i, e := range rt.Extensions {
		if exts[i].set() {
			has, ok := t.extensionShown(e.Schema, exts[i], p)
			if !ok {
				return fail()
			}
			shown[i] = has
		}
		if shown[i] {
			dst = append(dst, ',')
			dst = appendString(dst, e.Schema.ID)
		}
	}
	dst = append(dst, ']')
	var meta *schema.Attribute
	for _, a := range schema.CommonAttributes() {
		switch a.Name {
		case "meta":
			meta = a
		case "id":
			if p.Includes(schema.Ref{Attr: a}) {
				dst = append(dst, `,"id":`...)
				dst = appendString(dst, s.ID)
			}
		case "externalId":
			if externalID.set() {
				if dst, ok = t.appendAttr(dst, schema.Ref{Attr: a}, externalID, p); !ok {
					return fail()
				}
			}
		default:
			return fail() // a common attribute this code does not know
		}
	}
	for i, a := range rt.Schema.Attributes {
		switch {
		case core[i].set():
			if dst, ok = t.appendAttr(dst, schema.Ref{Attr: a}, core[i], p); !ok {
				return fail()
			}
		case s.Computed != nil:
			dst = appendAttr(dst, s.Computed, schema.Ref{Attr: a}, p)
		}
	}
	for i, e := range rt.Extensions {
		if !shown[i] {
			continue
		}
		dst = append(dst, ',')
		dst = appendString(dst, e.Schema.ID)
		dst = append(dst, ':')
		open := len(dst)
		if dst, ok = t.appendExtension(dst, e.Schema, exts[i], p); !ok {
			return fail()
		}
		dst[open] = '{' // over the comma before the first attribute
		dst = append(dst, '}')
	}
	if meta != nil {
		dst = s.appendMeta(dst, meta, location, p)
	}
	return append(dst, '}'), true
}

// appendMeta appends `,"meta":{…}` as appendAttr does for the map SetMeta
// makes of s.Meta with location, without making it.
func (s *Stored) appendMeta(dst []byte, meta *schema.Attribute, location string, p *Projection) []byte {
	if !p.Includes(schema.Ref{Attr: meta}) {
		return dst
	}
	start := len(dst)
	dst = append(dst, `,"meta":`...)
	open := len(dst)
	for _, sub := range meta.SubAttributes {
		if !p.Includes(schema.Ref{Attr: meta, Sub: sub}) {
			continue
		}
		var str string
		var t time.Time
		switch sub.Name {
		case "resourceType":
			str = s.Meta.ResourceType
			if str == "" {
				str = s.Type.Name
			}
		case "created":
			t = s.Meta.Created
		case "lastModified":
			t = s.Meta.LastModified
		case "location":
			str = location
		case "version":
			str = s.Meta.Version
		}
		if str == "" && t.IsZero() && sub.Name != "location" { // SetLocation sets even ""
			continue
		}
		dst = append(dst, ',')
		dst = appendString(dst, sub.Name)
		dst = append(dst, ':')
		if t.IsZero() {
			dst = appendString(dst, str)
			continue
		}
		dst = append(dst, '"')
		dst = t.UTC().AppendFormat(dst, time.RFC3339Nano) // nothing to escape
		dst = append(dst, '"')
	}
	if len(dst) == open {
		return dst[:start] // nothing projected: no "meta":{}
	}
	dst[open] = '{' // over the comma before the first sub-attribute
	return append(dst, '}')
}

// A span is where one value lies in the stored JSON: data[from:to]. The
// zero span is no value.
type span struct{ from, to int }

func (s span) set() bool { return s.to > 0 }

// transcoder reads stored JSON as storedParser does, without building
// values: it checks that each value is what DecodeStored reads without
// handing it to Decode, and remembers where it lies, so that the value
// can be written straight from there.
type transcoder struct {
	storedParser
}

// skipTo checks the value of the top-level member name and records its
// span in core (by the attribute's index), exts (by the extension's) or
// externalID. It reports false for a member DecodeStored would hand to
// Decode.
func (t *transcoder) skipTo(name []byte, rt *schema.ResourceType, core, exts []span, externalID *span) bool {
	t.space()
	from := t.pos
	var at *span
	var ok bool
	switch {
	case len(name) > 4 && string(name[:4]) == "urn:":
		for i, e := range rt.Extensions {
			if e.Schema.ID == string(name) {
				at = &exts[i]
				ok = !at.set() && t.skipObject(e.Schema.Attributes)
				break
			}
		}
	case string(name) == "members" || string(name) == "groups":
		return false // computed: never stored
	case string(name) == "externalId" && rt.Schema.Attribute("externalId") == nil:
		at = externalID
		ok = !at.set() && t.skipValue(commonAttribute("externalId"))
	default:
		if i := attrIndex(rt.Schema.Attributes, name); i >= 0 {
			at = &core[i]
			ok = !at.set() && t.skipValue(rt.Schema.Attributes[i])
		}
	}
	if at == nil || !ok {
		return false // unknown, not canonical, twice, or not as stored
	}
	*at = span{from, t.pos}
	return true
}

// object reads an object as storedParser.object does, but hands member
// each name as it lies in the data, without copying it; a name with an
// escape is not one a store writes, and fails.
func (t *transcoder) object(member func(name []byte) bool) bool {
	if !t.byte('{') {
		return false
	}
	if t.byte('}') {
		return true
	}
	for {
		t.space()
		if t.pos >= len(t.data) || t.data[t.pos] != '"' {
			return false
		}
		end := bytes.IndexByte(t.data[t.pos+1:], '"')
		if end < 0 {
			return false
		}
		name := t.data[t.pos+1 : t.pos+1+end]
		if bytes.IndexByte(name, '\\') >= 0 {
			return false
		}
		t.pos += end + 2
		if !t.byte(':') || !member(name) {
			return false
		}
		if t.byte('}') {
			return true
		}
		if !t.byte(',') {
			return false
		}
	}
}

// skipObject checks an object of attrs (an extension's, or a complex
// value's sub-attributes): each under its canonical name, once, and at
// least one, as storedParser reads them.
func (t *transcoder) skipObject(attrs []*schema.Attribute) bool {
	var seen uint64
	if len(attrs) > 64 {
		return false
	}
	ok := t.object(func(name []byte) bool {
		i := attrIndex(attrs, name)
		if i < 0 || seen&(1<<i) != 0 {
			return false
		}
		seen |= 1 << i
		return t.skipValue(attrs[i])
	})
	return ok && seen != 0
}

// spansOf reads the object at the parser's position, an object of attrs,
// and sets at[i] to where the value of attrs[i] lies (at is as long as
// attrs).
func (t *transcoder) spansOf(attrs []*schema.Attribute, at []span) bool {
	return t.object(func(name []byte) bool {
		i := attrIndex(attrs, name)
		if i < 0 {
			return false
		}
		t.space()
		from := t.pos
		if !t.skipValue(attrs[i]) {
			return false
		}
		at[i] = span{from, t.pos}
		return true
	})
}

// attrIndex returns the index of the attribute called name (exactly) in
// attrs, or -1.
func attrIndex(attrs []*schema.Attribute, name []byte) int {
	for i, a := range attrs {
		if a.Name == string(name) {
			return i
		}
	}
	return -1
}

// skipValue checks a value of attr as storedParser.value reads it.
func (t *transcoder) skipValue(attr *schema.Attribute) bool {
	if !attr.MultiValued {
		return t.skipSingle(attr)
	}
	if !t.byte('[') || t.byte(']') {
		return false
	}
	for {
		if !t.skipSingle(attr) {
			return false
		}
		if t.byte(']') {
			return true
		}
		if !t.byte(',') {
			return false
		}
	}
}

// skipSingle checks one value of attr as storedParser.single reads it.
func (t *transcoder) skipSingle(attr *schema.Attribute) bool {
	switch attr.Type {
	case schema.Complex:
		return t.skipObject(attr.SubAttributes)
	case schema.Boolean:
		t.space()
		switch rest := t.data[t.pos:]; {
		case len(rest) >= 4 && string(rest[:4]) == "true":
			t.pos += 4
		case len(rest) >= 5 && string(rest[:5]) == "false":
			t.pos += 5
		default:
			return false
		}
		return true
	case schema.Integer:
		text, ok := t.numberText()
		if !ok {
			return false
		}
		_, err := strconv.ParseInt(string(text), 10, 64)
		return err == nil
	case schema.Decimal:
		text, ok := t.numberText()
		if !ok {
			return false
		}
		_, err := strconv.ParseFloat(string(text), 64)
		return err == nil
	case schema.String, schema.Reference:
		_, ok := t.stringText()
		return ok
	}
	return false // dateTime and binary: Decode checks their form
}

// numberText reads a JSON number as storedParser.number does, without
// copying it.
func (t *transcoder) numberText() ([]byte, bool) {
	t.space()
	from := t.pos
	if _, ok := t.number(); !ok {
		return nil, false
	}
	return t.data[from:t.pos], true
}

// stringText reads a JSON string as storedParser.string does, and
// returns its text between the quotes, escapes and all; without escapes
// it copies nothing.
func (t *transcoder) stringText() ([]byte, bool) {
	t.space()
	from := t.pos
	if from >= len(t.data) || t.data[from] != '"' {
		return nil, false
	}
	for i := from + 1; i < len(t.data); i++ {
		switch c := t.data[i]; {
		case c == '"':
			s := t.data[from+1 : i]
			if !utf8.Valid(s) {
				return nil, false
			}
			t.pos = i + 1
			return s, true
		case c == '\\':
			if _, ok := t.string(); !ok {
				return nil, false
			}
			return t.data[from+1 : t.pos-1], true
		case c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// extensionShown reports whether one attribute of the extension object
// at sp shows under p.
func (t *transcoder) extensionShown(s *schema.Schema, sp span, p *Projection) (shown, ok bool) {
	t.pos = sp.from
	ok = t.object(func(name []byte) bool {
		i := attrIndex(s.Attributes, name)
		if i < 0 {
			return false
		}
		if p.Includes(schema.Ref{Extension: s.ID, Attr: s.Attributes[i]}) {
			shown = true
		}
		return t.skipValue(s.Attributes[i])
	})
	return shown, ok
}

// appendExtension appends `,"name":value` for each attribute of the
// extension object at sp that p includes, in the schema's order.
func (t *transcoder) appendExtension(dst []byte, s *schema.Schema, sp span, p *Projection) ([]byte, bool) {
	var buf [16]span
	if len(s.Attributes) > len(buf) {
		return dst, false
	}
	at := buf[:len(s.Attributes)]
	t.pos = sp.from
	if !t.spansOf(s.Attributes, at) {
		return dst, false
	}
	var ok bool
	for i, a := range s.Attributes {
		if at[i].set() {
			if dst, ok = t.appendAttr(dst, schema.Ref{Extension: s.ID, Attr: a}, at[i], p); !ok {
				return dst, false
			}
		}
	}
	return dst, true
}

// appendAttr appends `,"name":value` for the attribute ref names, whose
// value is at sp, if p includes it. ok is false when p includes only
// some of a complex attribute's sub-attributes.
func (t *transcoder) appendAttr(dst []byte, ref schema.Ref, sp span, p *Projection) ([]byte, bool) {
	if !p.Includes(ref) {
		return dst, true
	}
	if ref.Attr.Type == schema.Complex {
		for _, sub := range ref.Attr.SubAttributes {
			if !p.Includes(schema.Ref{Extension: ref.Extension, Attr: ref.Attr, Sub: sub}) {
				return dst, false
			}
		}
	}
	dst = append(dst, ',')
	dst = appendString(dst, ref.Attr.Name)
	dst = append(dst, ':')
	t.pos = sp.from
	return t.appendValue(dst, ref.Attr)
}

// appendValue appends the value of attr at the parser's position as
// appendValue and appendComplex write it once decoded.
func (t *transcoder) appendValue(dst []byte, attr *schema.Attribute) ([]byte, bool) {
	if !attr.MultiValued {
		return t.appendSingle(dst, attr)
	}
	if !t.byte('[') {
		return dst, false
	}
	dst = append(dst, '[')
	for first := true; ; first = false {
		if !first {
			dst = append(dst, ',')
		}
		var ok bool
		if dst, ok = t.appendSingle(dst, attr); !ok {
			return dst, false
		}
		if t.byte(']') {
			return append(dst, ']'), true
		}
		if !t.byte(',') {
			return dst, false
		}
	}
}

// appendSingle appends one value of attr.
func (t *transcoder) appendSingle(dst []byte, attr *schema.Attribute) ([]byte, bool) {
	switch attr.Type {
	case schema.Complex:
		var buf [16]span
		if len(attr.SubAttributes) > len(buf) {
			return dst, false
		}
		at := buf[:len(attr.SubAttributes)]
		if !t.spansOf(attr.SubAttributes, at) {
			return dst, false
		}
		var ok bool
		end := t.pos
		dst = append(dst, '{')
		first := true
		for i, sub := range attr.SubAttributes {
			if !at[i].set() {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendString(dst, sub.Name)
			dst = append(dst, ':')
			t.pos = at[i].from
			if dst, ok = t.appendValue(dst, sub); !ok {
				return dst, false
			}
		}
		t.pos = end
		return append(dst, '}'), true
	case schema.Boolean, schema.Integer:
		// Checked on the way in: true, false, or an int64 without a
		// leading zero, which strconv writes back the same; but for "-0".
		t.space()
		from := t.pos
		var ok bool
		if attr.Type == schema.Boolean {
			ok = t.skipSingle(attr)
		} else {
			ok = t.skipSingle(attr) && string(t.data[from:t.pos]) != "-0"
		}
		return append(dst, t.data[from:t.pos]...), ok
	case schema.Decimal:
		text, ok := t.numberText()
		if !ok {
			return dst, false
		}
		f, err := strconv.ParseFloat(string(text), 64)
		return appendFloat(dst, f), err == nil
	case schema.String, schema.Reference:
		// Checked on the way in; here only its end is looked for.
		t.space()
		from := t.pos + 1
		for i := from; i < len(t.data); i++ {
			switch t.data[i] {
			case '"':
				// As appendString writes it, unless it holds U+2028 or
				// U+2029 (which begin with 0xE2).
				text := t.data[from:i]
				t.pos = i + 1
				if bytes.IndexByte(text, 0xE2) < 0 {
					dst = append(dst, '"')
					dst = append(dst, text...)
					return append(dst, '"'), true
				}
				return appendString(dst, string(text)), true
			case '\\':
				t.pos = from - 1 // read it again, unescaped
				s, ok := t.string()
				return appendString(dst, s), ok
			}
		}
		return dst, false
	}
	return dst, false
}
