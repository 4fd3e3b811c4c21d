package patch

import (
	"maps"
	"reflect"
	"slices"
	"strconv"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/scim/filter"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
)

// Apply applies the request's operations to r in order. Either all of them
// succeed and r holds the result, or Apply returns an error and r is
// unchanged. After the operations, the resource must still be valid:
// required attributes present and at most one primary value per attribute.
//
// Apply never changes the values r held before; it copies what it changes,
// and each multi-valued attribute at most once per request: a request that
// adds and removes 100 members of a group of 100,000 copies the member list
// once, finds members through one hash index, and compacts the list once.
func (req *Request) Apply(r *resource.Resource) error {
	s := &state{
		rt:    r.Type,
		attrs: maps.Clone(r.Attrs),
		owned: map[string]bool{},
		lists: map[string]*values{},
	}
	if s.attrs == nil {
		s.attrs = map[string]any{}
	}
	for i, op := range req.Operations {
		var err error
		if !op.checked {
			op, err = check(op, req.opts)
			op.source = i
		}
		if err == nil {
			err = s.apply(op)
		}
		if err != nil {
			return scim.Prefix("Operations["+strconv.Itoa(op.source)+"]: ", err)
		}
	}
	s.finish()
	result := &resource.Resource{Type: r.Type, Attrs: s.attrs}
	if err := result.Validate(); err != nil {
		return err
	}
	r.Attrs = s.attrs
	return nil
}

// state is the resource under change. attrs is a shallow copy of the
// original; values reachable from it are shared with the original until
// they are copied, which happens before any change. Multi-valued
// attributes being changed live in lists until finish stores them.
type state struct {
	rt    *schema.ResourceType
	attrs map[string]any
	owned map[string]bool    // extension objects already copied
	lists map[string]*values // multi-valued attributes being changed, by refKey
}

// values are the values of a multi-valued attribute during a request. A
// removed value becomes nil, so that indexes stay valid until finish drops
// the nils.
type values struct {
	ref  schema.Ref
	vals []any
	idx  *index
}

func refKey(ref schema.Ref) string { return ref.Extension + ":" + ref.Attr.Name }

func (s *state) apply(op Operation) error {
	ref, f := op.Path.Attr.Ref, op.Path.Filter
	if ref.Attr == nil {
		return s.removeExtension(ref.Extension)
	}
	a := ref.Attr
	switch {
	case f != nil && a.MultiValued:
		return s.filtered(op.Op, ref, f, op.Value)
	case f != nil:
		return s.filteredSingle(op.Op, ref, f, op.Value)
	case op.Op == Remove || op.Op == Replace && op.Value == nil:
		return s.remove(ref, op.Value)
	case op.Value == nil: // add of null
		return nil
	case ref.Sub != nil && a.MultiValued: // emails.value: of every value
		return s.every(op.Op, ref, op.Value)
	case ref.Sub != nil: // a sub-attribute of a single complex value
		m := s.complexCopy(ref)
		if err := setSub(m, ref.Sub, op.Value); err != nil {
			return err
		}
		s.store(ref, m)
	case a.MultiValued:
		add, ok := op.Value.([]any)
		if !ok {
			return badValue(ref)
		}
		if err := s.checkImmutableList(ref); err != nil {
			return err
		}
		l := s.list(ref)
		if op.Op == Replace {
			l.reset(nil)
		}
		l.clearOtherPrimaries(l.merge(add))
	case a.Type == schema.Complex:
		// Both add and replace set the given sub-attributes and leave the
		// others (RFC 7644 §3.5.2.1 and §3.5.2.3).
		v, ok := op.Value.(map[string]any)
		if !ok {
			return badValue(ref)
		}
		m := s.complexCopy(ref)
		retarget(a, m, v)
		for _, sub := range a.SubAttributes {
			if sv, ok := v[sub.Name]; ok {
				if err := setSub(m, sub, sv); err != nil {
					return err
				}
			}
		}
		s.store(ref, m)
	default:
		if err := checkImmutable(a, s.get(ref), op.Value); err != nil {
			return err
		}
		s.store(ref, op.Value)
	}
	return nil
}

// badValue is the error for a hand-made operation whose value does not
// have the form Operation.Value documents.
func badValue(ref schema.Ref) error {
	return scim.BadRequest(scim.InvalidValue, "the value for %s does not fit the attribute", ref)
}

// retarget prepares the complex value m of a reference attribute (one
// with a $ref, such as manager) for an update to v: when v refers to
// something else than m (Entra replaces the manager with a plain id), the
// sub-attributes that described the old referent ($ref, display,
// displayName) go; qualifiers such as type stay.
func retarget(a *schema.Attribute, m, v map[string]any) {
	nv, ok := v["value"]
	if !ok || m["value"] == nil || reflect.DeepEqual(m["value"], nv) || a.SubAttribute("$ref") == nil {
		return
	}
	for _, name := range []string{"$ref", "display", "displayName"} {
		if sub := a.SubAttribute(name); sub != nil && sub.Mutability != schema.Immutable {
			delete(m, sub.Name)
		}
	}
}

// checkImmutableList refuses a change to the values of an immutable
// multi-valued attribute that has some.
func (s *state) checkImmutableList(ref schema.Ref) error {
	if ref.Attr.Mutability == schema.Immutable && s.has(schema.Ref{Extension: ref.Extension, Attr: ref.Attr}) {
		return scim.BadRequest(scim.Mutability, "%s is immutable and already has values", ref.Attr.Name)
	}
	return nil
}

func (s *state) removeExtension(urn string) error {
	ext := s.rt.Extension(urn)
	if ext == nil {
		return scim.BadRequest(scim.InvalidPath, "unknown extension %s", urn)
	}
	for _, a := range ext.Schema.Attributes {
		if a.Required || a.Mutability == schema.Immutable && s.has(schema.Ref{Extension: urn, Attr: a}) {
			return scim.BadRequest(scim.Mutability, "%s:%s cannot be removed", urn, a.Name)
		}
		delete(s.lists, refKey(schema.Ref{Extension: urn, Attr: a}))
	}
	delete(s.attrs, urn)
	delete(s.owned, urn)
	return nil
}

// remove removes the attribute or sub-attribute ref names. With a value
// and a multi-valued attribute, only the values equal to those given are
// removed (Entra: remove members with [{"value": id}]).
func (s *state) remove(ref schema.Ref, given any) error {
	leaf := ref.Leaf()
	if given != nil && ref.Sub == nil && ref.Attr.MultiValued {
		list, ok := given.([]any)
		if !ok {
			return badValue(ref)
		}
		if err := s.checkImmutableList(ref); err != nil {
			return err
		}
		l := s.list(ref)
		l.idx.expect(l.vals, len(list))
		for _, g := range list {
			for _, i := range l.lookup(g) {
				l.vals[i] = nil
			}
		}
		return s.checkRequired(ref)
	}
	if leaf.Required {
		return scim.BadRequest(scim.Mutability, "%s is required and cannot be removed", ref)
	}
	if (leaf.Mutability == schema.Immutable || ref.Attr.Mutability == schema.Immutable) && s.has(ref) {
		return scim.BadRequest(scim.Mutability, "%s is immutable and cannot be removed", ref)
	}
	switch {
	case ref.Attr.MultiValued && ref.Sub == nil:
		s.list(ref).reset(nil)
	case ref.Attr.MultiValued:
		l := s.list(ref)
		for i, el := range l.vals {
			l.set(i, without(el, ref.Sub.Name))
		}
	case ref.Sub == nil:
		s.store(ref, nil)
	default:
		if m, ok := s.get(ref).(map[string]any); ok {
			s.store(ref, without(m, ref.Sub.Name))
		}
	}
	return nil
}

// filtered applies an operation to the values of a multi-valued complex
// attribute that match the value filter f.
func (s *state) filtered(op Op, ref schema.Ref, f filter.Expr, value any) error {
	if value == nil && op == Add {
		return nil
	}
	if value == nil { // replace with null or {}: the selected values go
		op = Remove
	}
	l := s.list(ref)
	matches := l.match(f)
	if op == Remove {
		if err := s.checkImmutableList(ref); err != nil && len(matches) > 0 {
			return err
		}
		if ref.Sub != nil && len(matches) > 0 && (ref.Sub.Required || ref.Sub.Mutability == schema.Immutable) {
			for _, i := range matches {
				if m, _ := l.vals[i].(map[string]any); m[ref.Sub.Name] != nil {
					return scim.BadRequest(scim.Mutability, "%s cannot be removed", ref)
				}
			}
		}
		for _, i := range matches {
			if ref.Sub == nil {
				l.vals[i] = nil
			} else {
				l.set(i, without(l.vals[i], ref.Sub.Name))
			}
		}
		return s.checkRequired(ref)
	}
	if err := s.checkImmutableList(ref); err != nil {
		return err
	}
	touched := make(map[int]bool, max(len(matches), 1))
	if len(matches) == 0 {
		// Entra ID: a replace (or add) through a filter that matches nothing
		// adds the value the filter describes, so that
		// emails[type eq "work"].value = x creates the work email.
		elem, err := described(ref, f, value)
		if err != nil {
			return err
		}
		touched[l.append(elem)] = true
	}
	for _, i := range matches {
		m, err := updated(op, ref, l.vals[i], value)
		if err != nil {
			return err
		}
		l.set(i, m)
		touched[i] = true
	}
	l.clearOtherPrimaries(touched)
	return nil
}

// every sets a sub-attribute of every value of a multi-valued complex
// attribute, as a path without a value filter asks (RFC 7644 §3.5.2.3: a
// path that names no particular value applies to all of them), so that a
// replace of emails.value changes the address of each email. When the
// attribute has no values, it gets one holding the sub-attribute: a
// replace of an attribute that has no value is an add.
func (s *state) every(op Op, ref schema.Ref, value any) error {
	if err := s.checkImmutableList(ref); err != nil {
		return err
	}
	l := s.list(ref)
	touched := make(map[int]bool, len(l.vals))
	for i, v := range l.vals {
		if _, ok := v.(map[string]any); !ok {
			continue
		}
		m, err := updated(op, ref, v, value)
		if err != nil {
			return err
		}
		l.set(i, m)
		touched[i] = true
	}
	if len(touched) == 0 {
		touched[l.append(map[string]any{ref.Sub.Name: value})] = true
	}
	l.clearOtherPrimaries(touched)
	return nil
}

// filteredSingle applies an operation through a value filter to a
// single-valued complex attribute, as in Entra's remove of
// manager[value eq "id"]: the value is a list of one.
func (s *state) filteredSingle(op Op, ref schema.Ref, f filter.Expr, value any) error {
	cur, _ := s.get(ref).(map[string]any)
	match := cur != nil && filter.MatchValue(f, cur)
	switch {
	case op == Add && value == nil:
		return nil
	case (op == Remove || value == nil) && !match:
		return nil
	case op == Remove || value == nil:
		return s.remove(ref, nil)
	case match:
		m, err := updated(op, ref, cur, value)
		if err != nil {
			return err
		}
		s.store(ref, m)
	case cur == nil:
		elem, err := described(ref, f, value)
		if err != nil {
			return err
		}
		s.store(ref, elem)
	default:
		return scim.BadRequest(scim.NoTarget, "the value of %s does not match [%s]", ref.Attr.Name, f)
	}
	return nil
}

// described returns the new complex value an add or replace through a
// filter that matched nothing stands for: what the filter describes, with
// the operation's value on top; noTarget when the filter describes none.
func described(ref schema.Ref, f filter.Expr, value any) (map[string]any, error) {
	elem, ok := filter.Equality(f)
	if !ok {
		return nil, scim.BadRequest(scim.NoTarget, "no value of %s matches [%s]", ref.Attr.Name, f)
	}
	if ref.Sub != nil {
		elem[ref.Sub.Name] = value
	} else if v, ok := value.(map[string]any); ok {
		maps.Copy(elem, v)
	} else {
		return nil, badValue(ref)
	}
	return elem, nil
}

// updated returns a copy of the complex value cur changed by an add or a
// replace through a filter that selected it.
func updated(op Op, ref schema.Ref, cur, value any) (map[string]any, error) {
	m := maps.Clone(cur.(map[string]any))
	if ref.Sub != nil {
		if ref.Sub.Name == "value" {
			retarget(ref.Attr, m, map[string]any{"value": value})
		}
		return m, setSub(m, ref.Sub, value)
	}
	nv, ok := value.(map[string]any)
	if !ok {
		return nil, badValue(ref)
	}
	if op == Replace { // the selected value is replaced whole
		for _, sub := range ref.Attr.SubAttributes {
			if err := setSub(m, sub, nv[sub.Name]); err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	retarget(ref.Attr, m, nv)
	for k, v := range nv {
		if err := setSub(m, ref.Attr.SubAttribute(k), v); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// checkRequired fails when removing values left a required attribute
// without any.
func (s *state) checkRequired(ref schema.Ref) error {
	if ref.Attr.Required && !s.has(schema.Ref{Extension: ref.Extension, Attr: ref.Attr}) {
		return scim.BadRequest(scim.Mutability, "%s is required and cannot be left without values", ref)
	}
	return nil
}

// list returns the working values of the multi-valued attribute ref names,
// copying them from the resource the first time in a request.
func (s *state) list(ref schema.Ref) *values {
	k := refKey(ref)
	if l, ok := s.lists[k]; ok {
		return l
	}
	ref = schema.Ref{Extension: ref.Extension, Attr: ref.Attr}
	cur, _ := s.get(ref).([]any)
	l := &values{ref: ref, vals: append([]any(nil), cur...), idx: newIndex(ref.Attr)}
	s.lists[k] = l
	return l
}

// finish stores the working lists back into the resource.
func (s *state) finish() {
	for _, l := range s.lists {
		// The list is this request's own copy: drop the removed values in
		// place.
		s.store(l.ref, slices.DeleteFunc(l.vals, resource.Unassigned))
	}
}

// get returns the current value of ref's attribute (not of its
// sub-attribute), which must not be modified. It does not see changes
// pending in lists.
func (s *state) get(ref schema.Ref) any {
	c := s.attrs
	if ref.Extension != "" {
		c, _ = s.attrs[ref.Extension].(map[string]any)
	}
	return c[ref.Attr.Name]
}

// has reports whether the attribute or sub-attribute ref names has a value.
func (s *state) has(ref schema.Ref) bool {
	if l, ok := s.lists[refKey(ref)]; ok {
		for _, v := range l.vals {
			m, _ := v.(map[string]any)
			if v != nil && (ref.Sub == nil || !resource.Unassigned(m[ref.Sub.Name])) {
				return true
			}
		}
		return false
	}
	_, ok := (&resource.Resource{Type: s.rt, Attrs: s.attrs}).Get(ref)
	return ok
}

// complexCopy returns a copy of the single complex value of ref's
// attribute, or a new empty map.
func (s *state) complexCopy(ref schema.Ref) map[string]any {
	if m, ok := s.get(ref).(map[string]any); ok {
		return maps.Clone(m)
	}
	return map[string]any{}
}

// store sets ref's attribute to v, or removes it when v is unassigned.
func (s *state) store(ref schema.Ref, v any) {
	c := s.attrs
	if ref.Extension != "" {
		c, _ = s.attrs[ref.Extension].(map[string]any)
		if !s.owned[ref.Extension] {
			c = maps.Clone(c)
			if c == nil {
				c = map[string]any{}
			}
			s.owned[ref.Extension] = true
			s.attrs[ref.Extension] = c
		}
	}
	if resource.Unassigned(v) {
		delete(c, ref.Attr.Name)
	} else {
		c[ref.Attr.Name] = v
	}
	if ref.Extension != "" && len(c) == 0 {
		delete(s.attrs, ref.Extension)
		delete(s.owned, ref.Extension)
	}
}

// setSub sets sub-attribute sub of m to v (deleting it when v is nil),
// refusing to change an immutable sub-attribute that has a value.
// Sub-attributes the schema lacks or makes readOnly are left alone.
func setSub(m map[string]any, sub *schema.Attribute, v any) error {
	if sub == nil || sub.Mutability == schema.ReadOnly {
		return nil
	}
	if err := checkImmutable(sub, m[sub.Name], v); err != nil {
		return err
	}
	if resource.Unassigned(v) {
		delete(m, sub.Name)
	} else {
		m[sub.Name] = v
	}
	return nil
}

func checkImmutable(a *schema.Attribute, old, v any) error {
	if a.Mutability == schema.Immutable && old != nil && !reflect.DeepEqual(old, v) {
		return scim.BadRequest(scim.Mutability, "%s is immutable and already has a value", a.Name)
	}
	return nil
}

// without returns a copy of the complex value v without sub-attribute
// name, or nil if nothing is left.
func without(v any, name string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if _, has := m[name]; !has {
		return m
	}
	m = maps.Clone(m)
	delete(m, name)
	if len(m) == 0 {
		return nil
	}
	return m
}

// reset replaces all values.
func (l *values) reset(vals []any) {
	l.vals = vals
	l.idx = newIndex(l.ref.Attr)
}

// append adds v and returns its position.
func (l *values) append(v any) int {
	l.vals = append(l.vals, v)
	l.idx.add(v, len(l.vals)-1)
	return len(l.vals) - 1
}

// set replaces the value at i (nil removes it).
func (l *values) set(i int, v any) {
	if resource.Unassigned(v) {
		v = nil
	}
	old := l.vals[i]
	l.vals[i] = v
	if v == nil {
		return
	}
	nk, hasNew := l.idx.key(v)
	ok, hadOld := l.idx.key(old)
	if old != nil && hasNew == hadOld && nk == ok {
		return // the same identity: the index already points here
	}
	l.idx.add(v, i)
}

// lookup returns the positions of the values equal to v.
func (l *values) lookup(v any) []int { return l.idx.lookup(l.vals, v) }

// match returns the positions of the values f selects. A filter of
// equalities that names "value" (members[value eq "id"]) is answered
// through the index; any other is checked against every value.
func (l *values) match(f filter.Expr) []int {
	var out []int
	if eq, ok := filter.Equality(f); ok && eq["value"] != nil {
		for _, i := range l.lookup(eq) {
			if m, ok := l.vals[i].(map[string]any); ok && filter.MatchValue(f, m) {
				out = append(out, i)
			}
		}
		return out
	}
	for i, v := range l.vals {
		if m, ok := v.(map[string]any); ok && filter.MatchValue(f, m) {
			out = append(out, i)
		}
	}
	return out
}

// merge adds values, except those equal to a value already there
// (RFC 7644 §3.5.2.1: adding an existing value changes nothing), which are
// updated in place with the sub-attributes given. It returns the
// positions of the values added or updated.
func (l *values) merge(add []any) map[int]bool {
	l.idx.expect(l.vals, len(add))
	touched := make(map[int]bool, len(add))
	for _, v := range add {
		same := l.lookup(v)
		if len(same) == 0 {
			touched[l.append(v)] = true
			continue
		}
		i := same[0]
		if m, ok := v.(map[string]any); ok {
			merged := maps.Clone(l.vals[i].(map[string]any))
			for k, sv := range m {
				// An immutable sub-attribute that has a value keeps it: Okta
				// re-adds members with their current display names.
				if sub := l.ref.Attr.SubAttribute(k); sub == nil || sub.Mutability != schema.Immutable || merged[k] == nil {
					merged[k] = sv
				}
			}
			l.set(i, merged)
		}
		touched[i] = true
	}
	return touched
}

// clearOtherPrimaries sets primary to false on every value not touched
// when a touched value is primary (RFC 7644 §3.5.2: setting primary on one
// value clears it on the others).
func (l *values) clearOtherPrimaries(touched map[int]bool) {
	newPrimary := false
	for i := range touched {
		if m, ok := l.vals[i].(map[string]any); ok && m["primary"] == true {
			newPrimary = true
		}
	}
	if !newPrimary {
		return
	}
	for i, v := range l.vals {
		if m, ok := v.(map[string]any); ok && !touched[i] && m["primary"] == true {
			m = maps.Clone(m)
			m["primary"] = false
			l.vals[i] = m
		}
	}
}
